"""The mapInArrow functions the job runs, on Arrow batches shaped like the
Kafka source's rows (no Spark needed): every shared vector in, the right sink
topic, key and bytes out."""

import base64
import json

import pytest

import pyarrow as pa

from embedline_parse.arrow_transform import KAFKA_SINK_SCHEMA, PARQUET_SCHEMA, to_kafka_rows, to_parquet_rows
from embedline_parse.rules import dlq_bytes
from tests.test_parse_rules import CASES, VECTORS, generate, message_value

DEFAULT_CASES = [c for c in CASES if "max_text_bytes" not in c and c["timestamp"] is not None and c["timestamp"].lstrip("-").isdigit()]
assert VECTORS["defaults"]["max_text_bytes"] == 1_000_000


def source_batch(cases):
    return pa.RecordBatch.from_pydict(
        {
            "key": [b"k%d" % i for i in range(len(cases))],
            "value": [message_value(c) for c in cases],
            "topic": ["in.topic"] * len(cases),
            "partition": [1] * len(cases),
            "offset": list(range(100, 100 + len(cases))),
            "ts_ms": [int(c["timestamp"]) for c in cases],
        },
        schema=pa.schema([("key", pa.binary()), ("value", pa.binary()), ("topic", pa.string()), ("partition", pa.int32()), ("offset", pa.int64()), ("ts_ms", pa.int64())]),
    )


def expected_json(case):
    rec = dict(case["expect"]["record"], topic="in.topic")
    if isinstance(rec["text"], dict):
        rec["text"] = generate(rec["text"])
    return json.dumps({"text": rec["text"], "topic": rec["topic"], "kafka_ts": rec["kafka_ts"], "doc_id": rec["doc_id"]}, ensure_ascii=False, separators=(",", ":"))


def test_kafka_rows_route_records_and_rejects():
    transform = to_kafka_rows(1_000_000, "sink", "dlq", clock=lambda: 1700000009.5)
    [out] = list(transform(iter([source_batch(DEFAULT_CASES)])))
    assert out.schema == KAFKA_SINK_SCHEMA
    rows = out.to_pylist()
    assert len(rows) == len(DEFAULT_CASES)
    for i, (case, row) in enumerate(zip(DEFAULT_CASES, rows)):
        if "reason" in case["expect"]:
            assert row["topic"] == "dlq"
            assert row["key"] == b"k%d" % i
            dead = json.loads(row["value"])
            assert dead["reason"] == case["expect"]["reason"]
            assert dead["source"] == {"topic": "in.topic", "partition": 1, "offset": str(100 + i), "timestamp": dead["kafka_ts"]}
            assert dead["stage"] == "parse"
            value = message_value(case)
            assert dead["original"]["value"] == (None if value is None else dlq_bytes(value))
            assert dead["ts"] == 1700000009.5
        else:
            assert row["topic"] == "sink"
            assert row["value"] == expected_json(case)
            assert row["key"] == case["expect"]["record"]["doc_id"].encode("utf-8")


def test_parquet_rows_hold_parsed_records_only():
    [out] = list(to_parquet_rows(1_000_000)(iter([source_batch(DEFAULT_CASES)])))
    assert out.schema == PARQUET_SCHEMA
    good = [c for c in DEFAULT_CASES if "record" in c["expect"]]
    assert out.num_rows == len(good)
    assert out.column("doc_id").to_pylist() == [c["expect"]["record"]["doc_id"] for c in good]


HEADERS_TYPE = pa.list_(pa.struct([("key", pa.string()), ("value", pa.binary())]))
SOURCE_SCHEMA = pa.schema([("key", pa.binary()), ("value", pa.binary()), ("topic", pa.string()), ("partition", pa.int32()), ("offset", pa.int64()), ("ts_ms", pa.int64()), ("headers", HEADERS_TYPE)])


def dlq_case_row(c):
    if "key_base64" in c:
        key = base64.b64decode(c["key_base64"])
    else:
        key = None if c.get("key") is None else c["key"].encode("utf-8")
    headers = [{"key": k, "value": None if v is None else v.encode("utf-8")} for k, v in c.get("headers", [])]
    return {"key": key, "value": message_value(c), "topic": c["topic"], "partition": c["partition"], "offset": int(c["offset"]), "ts_ms": int(c["timestamp"]), "headers": headers}


@pytest.mark.parametrize("case", VECTORS["dlq_cases"], ids=[c["name"] for c in VECTORS["dlq_cases"]])
def test_dlq_vector(case):
    """The same bytes as the TypeScript worker (tests/unit/parse-vectors.test.ts runs the same cases)."""
    batch = pa.RecordBatch.from_pylist([dlq_case_row(case)], schema=SOURCE_SCHEMA)
    transform = to_kafka_rows(
        case.get("max_text_bytes", VECTORS["defaults"]["max_text_bytes"]),
        "embedding_input",
        "dlq",
        clock=lambda: case["now_ms"] / 1000,
        sink_max_message_bytes=case["sink_max_message_bytes"],
        dlq_max_message_bytes=case["dlq_max_message_bytes"],
    )
    [out] = list(transform(iter([batch])))
    [row] = out.to_pylist()
    if case["expect"].get("sink"):
        assert row["topic"] == "embedding_input"
        return
    assert row["topic"] == "dlq"
    assert row["key"] == (base64.b64decode(case["expect"]["key_base64"]) if "key_base64" in case["expect"] else None)
    assert row["value"] == case["expect"]["json"]
