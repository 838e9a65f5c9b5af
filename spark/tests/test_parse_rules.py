"""The shared parse vectors (tests/vectors/parse-cases.json) against the Python
rules the Spark job runs. tests/unit/parse-vectors.test.ts runs the same file
against the TypeScript rules; the file's "format" entry documents each field."""

import base64
import json
from pathlib import Path

import pytest

from embedline_parse.rules import Parsed, Rejected, kafkajs_header_order, parse_dlq_record, parse_raw_message, serialize_embedding_input

VECTORS = json.loads((Path(__file__).resolve().parents[2] / "tests" / "vectors" / "parse-cases.json").read_text(encoding="utf-8"))
CASES = VECTORS["cases"]


def generate(g: dict) -> str:
    return g.get("prefix", "") + g["repeat"] * g["count"] + g.get("suffix", "")


def message_value(case: dict):
    if "value_json" in case:
        return json.dumps(case["value_json"], ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    if "value_base64" in case:
        return base64.b64decode(case["value_base64"])
    if "value_generate" in case:
        return generate(case["value_generate"]).encode("utf-8")
    return None if case.get("value") is None else case["value"].encode("utf-8")


def test_cases_are_uniquely_named():
    names = [c["name"] for c in CASES]
    assert len(set(names)) == len(names) > 50


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_vector(case):
    result = parse_raw_message(message_value(case), case["topic"], case["timestamp"], case.get("max_text_bytes", VECTORS["defaults"]["max_text_bytes"]))
    expect = case["expect"]
    if "reason" in expect:
        assert isinstance(result, Rejected), f"expected {expect['reason']}, got a record"
        assert result.reason == expect["reason"]
        assert result.error and "\n" not in result.error
        return
    record = dict(expect["record"])
    if isinstance(record["text"], dict):
        record["text"] = generate(record["text"])
    assert isinstance(result, Parsed), f"expected a record, got {result}"
    assert result == Parsed(**record)
    serialized = serialize_embedding_input(result)
    assert serialized == expect.get("json", json.dumps(record, ensure_ascii=False, separators=(",", ":")))


def test_a_string_value_with_a_lone_surrogate_is_invalid_unicode():
    assert parse_raw_message("a\ud800b", "t", "0", 100) == Rejected("invalid_unicode", "message value is not valid UTF-8")


def test_dlq_record_has_the_contract_fields_in_order():
    record = parse_dlq_record(Rejected("empty_text", "text is empty or whitespace only"), topic="agent.results", partition=2, offset=41, timestamp_ms=1700000000123, ts=1700000001.5)
    assert list(record) == ["text", "topic", "kafka_ts", "doc_id", "reason", "error", "attempts", "ts", "model", "source", "stage"]
    assert record["source"] == {"topic": "agent.results", "partition": 2, "offset": "41", "timestamp": 1700000000.123}
    assert record["stage"] == "parse"


def test_headers_take_kafkajs_object_order():
    wire = [("b", b"1"), ("a", b"2"), ("b", b"3"), ("10", b"x"), ("2", None), ("01", b"y")]
    assert kafkajs_header_order(wire) == [("2", None), ("10", b"x"), ("b", b"1"), ("b", b"3"), ("a", b"2"), ("01", b"y")]
