"""The parse rules of lib/records/parse-raw-message.ts, in Python.

One raw message from ``agent.results`` becomes an ``embedding_input`` record,
or the reason it goes to the parse DLQ. Both implementations must agree to the
byte: tests/vectors/parse-cases.json is run by the vitest suite and by
spark/tests/test_parse_rules.py. The numbered rules are those of the TS doc
comment; what differs between the languages is handled here, each at its place:

- strict UTF-8 decoding that keeps a BOM (not "utf-8-sig");
- JSON numbers kept as the literal text they were written with (JSON.parse
  would round big integers, but the TS side reads ids from the source text);
  NaN/Infinity rejected as JSON.parse does; nesting deeper than Python's
  recursion limit counts as "not JSON" only after the limit was raised, as
  JSON.parse has no depth limit;
- whitespace is ECMAScript's WhiteSpace + LineTerminator set, not str.isspace;
- lone surrogates (from ``\\ud800`` escapes) have no UTF-8 form;
- output JSON: compact, keys text, topic, kafka_ts, doc_id, non-ASCII as is,
  an integral kafka_ts without ".0".
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import sys
from dataclasses import dataclass
from typing import Optional, Union

TEXT_FIELDS = ("text", "message", "content", "prompt", "body")
DOC_ID_FIELDS = ("doc_id", "id", "document_id", "key")

# extract-text.ts WHITESPACE_CLASS, character for character.
_BLANK = re.compile("[\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]*")

# JSON.parse accepts any depth; Python's decoder recurses once per level. Deep
# enough for any real message; beyond it a value is read as raw text (and the
# TS side would agree only up to here — the vectors stay well below).
_JSON_DEPTH = 20_000
if sys.getrecursionlimit() < _JSON_DEPTH:
    sys.setrecursionlimit(_JSON_DEPTH)


class _NumberLiteral(str):
    """A JSON number, kept as the exact text it was written with."""


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


@dataclass(frozen=True)
class Parsed:
    text: str
    topic: str
    kafka_ts: Union[int, float, None]
    doc_id: str


@dataclass(frozen=True)
class Rejected:
    reason: str  # invalid_unicode | empty_text | text_too_large
    error: str  # one line, never the text


def _well_formed(s: str) -> bool:
    try:
        s.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def _read_object(raw: str) -> Optional[dict]:
    """Top-level fields when `raw` is a JSON object; None for anything else (raw text)."""
    # Cheap pre-check: JSON text whose top value is an object starts with "{"
    # after JSON whitespace; skipping json.loads for plain text is most of the
    # speed of raw-string messages.
    if not raw.lstrip(" \t\n\r").startswith("{"):
        return None
    try:
        parsed = json.loads(raw, parse_int=_NumberLiteral, parse_float=_NumberLiteral, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        return None
    return parsed if isinstance(parsed, dict) else None


def kafka_ts_seconds(timestamp_ms: Union[int, str, None]) -> Union[int, float, None]:
    """Kafka timestamp in ms → epoch seconds (ms / 1000); None when absent or negative."""
    if isinstance(timestamp_ms, str):
        if not re.fullmatch(r"[0-9]+", timestamp_ms):
            return None
        timestamp_ms = int(timestamp_ms)
    if not isinstance(timestamp_ms, int) or isinstance(timestamp_ms, bool) or timestamp_ms < 0:
        return None
    if timestamp_ms > 9007199254740991:  # JS Number.MAX_SAFE_INTEGER: the TS side gives null
        return None
    # An int when integral, so it serialises as JSON.stringify writes it ("1700000000", not "1700000000.0").
    return timestamp_ms // 1000 if timestamp_ms % 1000 == 0 else timestamp_ms / 1000


def parse_raw_message(value: Union[bytes, str, None], topic: str, timestamp_ms: Union[int, str, None], max_text_bytes: int) -> Union[Parsed, Rejected]:
    if value is None:
        return Rejected("empty_text", "message has no value (tombstone)")
    if isinstance(value, (bytes, bytearray, memoryview)):
        try:
            raw = bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            return Rejected("invalid_unicode", "message value is not valid UTF-8")
    else:
        if not _well_formed(value):
            return Rejected("invalid_unicode", "message value is not valid UTF-8")
        raw = value

    fields = _read_object(raw)
    text = raw
    if fields is not None:
        for name in TEXT_FIELDS:
            v = fields.get(name)
            if isinstance(v, str) and not isinstance(v, _NumberLiteral):
                text = v
                break
    if not _well_formed(text):
        return Rejected("invalid_unicode", "text contains a lone UTF-16 surrogate")
    if _BLANK.fullmatch(text):
        return Rejected("empty_text", "text is empty or whitespace only")
    encoded = text.encode("utf-8")
    if len(encoded) > max_text_bytes:
        return Rejected("text_too_large", f"text is {len(encoded)} UTF-8 bytes, over the limit of {max_text_bytes}")

    doc_id = None
    if fields is not None:
        for name in DOC_ID_FIELDS:
            v = fields.get(name)
            # A non-empty string verbatim, or a number as written (both are str here).
            if isinstance(v, str) and v != "":
                doc_id = str(v)
                break
    if doc_id is None:
        doc_id = hashlib.sha256(encoded).hexdigest()
    elif not _well_formed(doc_id):
        return Rejected("invalid_unicode", "doc_id contains a lone UTF-16 surrogate")
    return Parsed(text, topic, kafka_ts_seconds(timestamp_ms), doc_id)


def _dumps(obj: dict) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def serialize_embedding_input(p: Parsed) -> str:
    """The record's Kafka value, byte for byte what serializeEmbeddingInput writes."""
    return _dumps({"text": p.text, "topic": p.topic, "kafka_ts": p.kafka_ts, "doc_id": p.doc_id})


def _number(x: Union[int, float, None]) -> Union[int, float, None]:
    """A number as JSON.stringify writes it: an integral float without ".0"."""
    return int(x) if isinstance(x, float) and x.is_integer() else x


def parse_dlq_record(r: Rejected, *, topic: str, partition: int, offset: int, timestamp_ms, ts: float, attempts: int = 1) -> dict:
    """A parse DLQ record without ``original``, field for field what workers/parse/dlq-record.ts builds.

    The input fields are null: the text is not carried (it may be megabytes, or
    not valid Unicode), and the doc_id comes after the checks that failed (for
    too_large it is in ``original``); ``source`` points at the message itself,
    with its Kafka timestamp.
    """
    kafka_ts = kafka_ts_seconds(timestamp_ms)
    return {
        "text": None,
        "topic": topic,
        "kafka_ts": kafka_ts,
        "doc_id": None,
        "reason": r.reason,
        "error": r.error,
        "attempts": attempts,
        "ts": _number(ts),
        "model": None,
        "source": {"topic": topic, "partition": partition, "offset": str(offset), "timestamp": kafka_ts},
        "stage": "parse",
    }


# --- The original message (lib/records/dlq-original.ts) ---------------------

# lib/records/dlq-original.ts DLQ_KEY_MAX_BYTES: longer source keys are kept in `original` only.
DLQ_KEY_MAX_BYTES = 1024

Headers = list  # [(key: str, value: bytes | None)], in wire order


def dlq_key(key: Optional[bytes]) -> Optional[bytes]:
    """The Kafka key to write a DLQ record under: the source key when short, else none."""
    return key if key is not None and len(key) <= DLQ_KEY_MAX_BYTES else None


def dlq_bytes(b: bytes, prefix_bytes: float = float("inf"), withhold: bool = False) -> dict:
    """Bytes as the DLQ keeps them: UTF-8 text when they are, otherwise base64; a base64 prefix past ``prefix_bytes``."""
    size, digest = len(b), hashlib.sha256(b).hexdigest()
    if withhold:
        return {"data": None, "encoding": "utf8", "size": size, "sha256": digest, "truncated": False}
    if size > prefix_bytes:
        return {"data": base64.b64encode(b[: max(0, int(prefix_bytes))]).decode("ascii"), "encoding": "base64", "size": size, "sha256": digest, "truncated": True}
    try:
        return {"data": b.decode("utf-8"), "encoding": "utf8", "size": size, "sha256": digest, "truncated": False}
    except UnicodeDecodeError:
        return {"data": base64.b64encode(b).decode("ascii"), "encoding": "base64", "size": size, "sha256": digest, "truncated": False}


def _array_index(key: str) -> bool:
    return re.fullmatch(r"0|[1-9][0-9]*", key) is not None and int(key) < 4294967295


def kafkajs_header_order(headers: Optional[Headers]) -> Headers:
    """Headers in the order the TypeScript worker sees them.

    kafkajs folds a record's headers into an object: a repeated key becomes an
    array at its first position, and as in any JS object, keys that are array
    indices ("0", "7") come first in numeric order. Spark gives the wire order.
    """
    grouped: dict = {}
    for key, value in headers or []:
        grouped.setdefault(key, []).append(value)
    keys = sorted((k for k in grouped if _array_index(k)), key=int) + [k for k in grouped if not _array_index(k)]
    return [(k, v) for k in keys for v in grouped[k]]


def dlq_original(key: Optional[bytes], value: Optional[bytes], headers: Headers, prefix_bytes: float = float("inf"), withhold_value: bool = False) -> dict:
    return {
        "key": None if key is None else dlq_bytes(key, prefix_bytes),
        "value": None if value is None else dlq_bytes(value, prefix_bytes, withhold_value),
        "headers": [{"key": k, "value": None if v is None else dlq_bytes(v, prefix_bytes)} for k, v in headers],
    }


class DlqTooSmall(ValueError):
    """The DLQ topic's limit leaves no room for a DLQ record."""


def serialize_dlq_with_original(record: dict, key: Optional[bytes], value: Optional[bytes], headers: Optional[Headers], max_bytes: int, withhold_value: bool = False) -> str:
    """serializeDlqWithOriginal: the record's JSON with ``original`` attached, at most ``max_bytes`` UTF-8 bytes.

    Same steps as the TypeScript side, so both write the same bytes: whole;
    then every key/value/header cut to a prefix of 3/8 of the budget, halved
    until it fits; then ``text`` dropped; then the headers.
    """
    ordered = kafkajs_header_order(headers)

    def attempt(prefix: float, drop_text: bool, drop_headers: bool) -> str:
        original = dlq_original(key, value, [] if drop_headers else ordered, prefix, withhold_value)
        body = dict(record, text=None) if drop_text and "text" in record else record
        return _dumps({**body, "original": original})

    def fits(j: str) -> bool:
        return len(j.encode("utf-8")) <= max_bytes

    out = attempt(float("inf"), False, False)
    if fits(out):
        return out
    prefix = (max_bytes * 3) // 8
    while prefix >= 1:
        out = attempt(prefix, False, False)
        if fits(out):
            return out
        prefix //= 2
    for drop_text, drop_headers in ((True, False), (True, True)):
        out = attempt(0, drop_text, drop_headers)
        if fits(out):
            return out
    raise DlqTooSmall(f"a DLQ record does not fit in {max_bytes} bytes even without the original message")


# --- Record size limits (lib/kafka/record-limits.ts) -------------------------

BATCH_OVERHEAD_BYTES = 61
RECORD_OVERHEAD_BYTES = 5 + 1 + 10 + 5 + 5 + 5 + 5
HEADER_OVERHEAD_BYTES = 10


def record_bytes(key: Optional[bytes], value: Optional[bytes], headers: Optional[Headers] = None) -> int:
    """Upper bound of the bytes one record takes in a record batch, framing included."""
    n = RECORD_OVERHEAD_BYTES + (len(key) if key is not None else 0) + (len(value) if value is not None else 0)
    for k, v in headers or []:
        n += HEADER_OVERHEAD_BYTES + len(k.encode("utf-8")) + (len(v) if v is not None else 0)
    return n


def fits_alone(key: Optional[bytes], value: Optional[bytes], max_message_bytes: int) -> bool:
    """True when the record, sent alone, makes a batch the broker accepts under ``max_message_bytes``."""
    return BATCH_OVERHEAD_BYTES + record_bytes(key, value) <= max_message_bytes


def payload_budget(max_message_bytes: int) -> int:
    return max_message_bytes - BATCH_OVERHEAD_BYTES - RECORD_OVERHEAD_BYTES


def too_large(record_size: int, max_message_bytes: int, topic: str) -> Rejected:
    """The rejection of an embedding_input record over its topic's limit (the TS worker's error line, word for word)."""
    return Rejected("too_large", f"the embedding_input record makes a {BATCH_OVERHEAD_BYTES + record_size}-byte record batch (key, value, framing), over max.message.bytes {max_message_bytes} of {topic}")


def serialize_parse_dlq(record: dict, key: Optional[bytes], value: Optional[bytes], headers: Optional[Headers], dlq_max_message_bytes: int):
    """(Kafka key, JSON value) of a DLQ record that fits alone, with its key, under the DLQ topic's limit."""
    k = dlq_key(key)
    budget = payload_budget(dlq_max_message_bytes) - (len(k) if k is not None else 0)
    return k, serialize_dlq_with_original(record, key, value, headers, budget)
