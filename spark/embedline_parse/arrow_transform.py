"""Kafka rows → Kafka sink rows, one Arrow record batch at a time.

The job maps these functions over the Kafka source with mapInArrow: Spark
hands the Python worker columnar batches (no per-row pickling as with a plain
Python UDF), the rules run in a tight loop, and the output goes back as
Arrow. Input columns: key (binary), value (binary), topic (string),
partition (int), offset (long), ts_ms (long, Kafka timestamp in ms).
"""

from __future__ import annotations

import time
from typing import Callable, Iterable, Iterator

import pyarrow as pa

from .rules import Parsed, kafka_ts_seconds, parse_raw_message, serialize_dlq_record, serialize_embedding_input

# What the Kafka sink writes: the `topic` column routes each row (records to
# the sink topic, rejects to the DLQ) within one query and one checkpoint.
KAFKA_SINK_SCHEMA = pa.schema([("topic", pa.string()), ("key", pa.binary()), ("value", pa.string())])
KAFKA_SINK_DDL = "topic string, key binary, value string"

# The optional Parquet output (VEC_OUTPUT_DIR): parsed records only.
PARQUET_SCHEMA = pa.schema([("text", pa.string()), ("topic", pa.string()), ("kafka_ts", pa.float64()), ("doc_id", pa.string())])
PARQUET_DDL = "text string, topic string, kafka_ts double, doc_id string"


def _rows(batch: pa.RecordBatch):
    cols = batch.to_pydict()
    return zip(cols["key"], cols["value"], cols["topic"], cols["partition"], cols["offset"], cols["ts_ms"])


def to_kafka_rows(max_text_bytes: int, sink_topic: str, dlq_topic: str, clock: Callable[[], float] = time.time):
    """The mapInArrow function of the Kafka query."""

    def transform(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            topics, keys, values = [], [], []
            for key, value, topic, partition, offset, ts_ms in _rows(batch):
                result = parse_raw_message(value, topic, ts_ms, max_text_bytes)
                if isinstance(result, Parsed):
                    topics.append(sink_topic)
                    keys.append(result.doc_id.encode("utf-8"))
                    values.append(serialize_embedding_input(result))
                else:
                    topics.append(dlq_topic)
                    keys.append(key)
                    ts = round(clock() * 1000) / 1000
                    values.append(serialize_dlq_record(result, topic=topic, partition=partition, offset=offset, kafka_ts=kafka_ts_seconds(ts_ms), ts=ts))
            yield pa.RecordBatch.from_arrays([pa.array(topics, pa.string()), pa.array(keys, pa.binary()), pa.array(values, pa.string())], schema=KAFKA_SINK_SCHEMA)

    return transform


def to_parquet_rows(max_text_bytes: int):
    """The mapInArrow function of the optional Parquet query."""

    def transform(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            out = {"text": [], "topic": [], "kafka_ts": [], "doc_id": []}
            for _key, value, topic, _partition, _offset, ts_ms in _rows(batch):
                result = parse_raw_message(value, topic, ts_ms, max_text_bytes)
                if isinstance(result, Parsed):
                    out["text"].append(result.text)
                    out["topic"].append(result.topic)
                    out["kafka_ts"].append(None if result.kafka_ts is None else float(result.kafka_ts))
                    out["doc_id"].append(result.doc_id)
            yield pa.RecordBatch.from_pydict(out, schema=PARQUET_SCHEMA)

    return transform
