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


def serialize_dlq_record(r: Rejected, *, topic: str, partition: int, offset: int, kafka_ts, ts: float) -> str:
    """A parse DLQ record, field for field what workers/parse/dlq-record.ts writes.

    The input fields are null: the text is not carried (it may be megabytes, or
    not valid Unicode), and the doc_id comes after the checks that failed; the
    source {topic, partition, offset} points at the message itself.
    """
    return _dumps(
        {
            "text": None,
            "topic": topic,
            "kafka_ts": kafka_ts,
            "doc_id": None,
            "reason": r.reason,
            "error": r.error,
            "attempts": 1,
            "ts": ts,
            "model": None,
            "source": {"topic": topic, "partition": partition, "offset": str(offset)},
        }
    )
