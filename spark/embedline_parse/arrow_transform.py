"""Kafka rows → Kafka sink rows, one Arrow record batch at a time.

The job maps these functions over the Kafka source with mapInArrow: Spark
hands the Python worker columnar batches (no per-row pickling as with a plain
Python UDF), the rules run in a tight loop, and the output goes back as
Arrow. Input columns: key (binary), value (binary), topic (string),
partition (int), offset (long), ts_ms (long, Kafka timestamp in ms), headers
(list of {key: string, value: binary}, wire order; the source reads them with
includeHeaders).

Every embedding_input record is checked as it will be written (key + value +
record framing, alone in a record batch) against the sink topic's
max.message.bytes, read from the broker by spark/run.ts: one that does not fit
goes to the DLQ as too_large, as in the TypeScript worker, instead of failing
the query (the Kafka sink does not skip a record the broker refuses).
"""

from __future__ import annotations

import time
from typing import Callable, Iterable, Iterator

import pyarrow as pa

from .rules import Parsed, fits_alone, parse_dlq_record, parse_raw_message, record_bytes, serialize_embedding_input, serialize_parse_dlq, too_large

# What the Kafka sink writes: the `topic` column routes each row (records to
# the sink topic, rejects to the DLQ) within one query and one checkpoint.
KAFKA_SINK_SCHEMA = pa.schema([("topic", pa.string()), ("key", pa.binary()), ("value", pa.string())])
KAFKA_SINK_DDL = "topic string, key binary, value string"

# The optional Parquet output (VEC_OUTPUT_DIR): parsed records only.
PARQUET_SCHEMA = pa.schema([("text", pa.string()), ("topic", pa.string()), ("kafka_ts", pa.float64()), ("doc_id", pa.string())])
PARQUET_DDL = "text string, topic string, kafka_ts double, doc_id string"


# The broker's default message.max.bytes (1 MiB + 12): the limit when none is given.
DEFAULT_MAX_MESSAGE_BYTES = 1_048_588


def _rows(batch: pa.RecordBatch):
    cols = batch.to_pydict()
    headers = cols.get("headers") or [None] * batch.num_rows
    return zip(cols["key"], cols["value"], cols["topic"], cols["partition"], cols["offset"], cols["ts_ms"], headers)


def _headers(h) -> list:
    return [(x["key"], x["value"]) for x in h or []]


def to_kafka_rows(
    max_text_bytes: int,
    sink_topic: str,
    dlq_topic: str,
    clock: Callable[[], float] = time.time,
    sink_max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
    dlq_max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
):
    """The mapInArrow function of the Kafka query."""

    def transform(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            topics, keys, values = [], [], []
            for key, value, topic, partition, offset, ts_ms, headers in _rows(batch):
                result = parse_raw_message(value, topic, ts_ms, max_text_bytes)
                if isinstance(result, Parsed):
                    out_key, out_value = result.doc_id.encode("utf-8"), serialize_embedding_input(result)
                    encoded = out_value.encode("utf-8")
                    if fits_alone(out_key, encoded, sink_max_message_bytes):
                        topics.append(sink_topic)
                        keys.append(out_key)
                        values.append(out_value)
                        continue
                    result = too_large(record_bytes(out_key, encoded), sink_max_message_bytes, sink_topic)
                ts = round(clock() * 1000) / 1000
                record = parse_dlq_record(result, topic=topic, partition=partition, offset=offset, timestamp_ms=ts_ms, ts=ts)
                dead_key, dead_value = serialize_parse_dlq(record, key, value, _headers(headers), dlq_max_message_bytes)
                topics.append(dlq_topic)
                keys.append(dead_key)
                values.append(dead_value)
            yield pa.RecordBatch.from_arrays([pa.array(topics, pa.string()), pa.array(keys, pa.binary()), pa.array(values, pa.string())], schema=KAFKA_SINK_SCHEMA)

    return transform


def to_parquet_rows(max_text_bytes: int, sink_max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES):
    """The mapInArrow function of the optional Parquet query: the records the Kafka query writes to the sink (not those it dead-letters)."""

    def transform(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            out = {"text": [], "topic": [], "kafka_ts": [], "doc_id": []}
            for _key, value, topic, _partition, _offset, ts_ms, _headers_ in _rows(batch):
                result = parse_raw_message(value, topic, ts_ms, max_text_bytes)
                if isinstance(result, Parsed) and fits_alone(result.doc_id.encode("utf-8"), serialize_embedding_input(result).encode("utf-8"), sink_max_message_bytes):
                    out["text"].append(result.text)
                    out["topic"].append(result.topic)
                    out["kafka_ts"].append(None if result.kafka_ts is None else float(result.kafka_ts))
                    out["doc_id"].append(result.doc_id)
            yield pa.RecordBatch.from_pydict(out, schema=PARQUET_SCHEMA)

    return transform
