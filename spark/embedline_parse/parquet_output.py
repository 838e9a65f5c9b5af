"""Reading the job's optional Parquet output (VEC_OUTPUT_DIR) as Spark does.

Spark's file sink is exactly-once through its metadata log: a part file
counts only once `_spark_metadata/` lists it. A job killed mid-batch leaves
files that no log entry names (empty or partial, and written again by the
replayed batch); a plain directory listing would count those twice.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from urllib.parse import unquote, urlparse


def committed_files(output_dir: str) -> list[str]:
    log_dir = Path(output_dir) / "_spark_metadata"
    entries: dict[str, bool] = {}
    # Batch files are named by batch id; every 10th is a ".compact" holding all earlier ones.
    # Checksums (".0.crc") and temporary files are not entries.
    logs = [p for p in log_dir.iterdir() if re.fullmatch(r"\d+(\.compact)?", p.name)] if log_dir.is_dir() else []
    batches = sorted(logs, key=lambda p: int(p.name.split(".")[0]))
    last_compact = max((i for i, p in enumerate(batches) if p.name.endswith(".compact")), default=0)
    for log_file in batches[last_compact:]:
        lines = log_file.read_text(encoding="utf-8").splitlines()[1:]  # first line: format version "v1"
        for line in lines:
            entry = json.loads(line)
            path = unquote(urlparse(entry["path"]).path)
            entries[path] = entry.get("action", "add") == "add"
    return sorted(p for p, added in entries.items() if added)


if __name__ == "__main__":
    # `python -m embedline_parse.parquet_output DIR`: rows and distinct doc_ids of what was committed.
    import pyarrow.parquet as pq

    files = committed_files(sys.argv[1])
    table = pq.ParquetDataset(files).read() if files else None
    rows = table.num_rows if table is not None else 0
    ids = len(set(table.column("doc_id").to_pylist())) if table is not None else 0
    print(json.dumps({"files": len(files), "rows": rows, "distinct_doc_ids": ids}))
