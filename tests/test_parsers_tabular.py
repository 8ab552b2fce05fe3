from datetime import datetime

import polars as pl

from pipelines.ingest.parsers.tabular import Tabular
from pipelines.ingest.registry import BY_TABLE

HOSTS = {"host": pl.String, "gpu_count": pl.Int64, "usd_per_gpu_hour": pl.Float64, "valid_from": "ts", "valid_to": "ts"}


def test_csv_types_optional_and_extra_columns(tmp_path):
    f = tmp_path / "hosts.csv"
    f.write_text(
        "host,gpu_count,usd_per_gpu_hour,valid_from,valid_to,rack\n"
        "h1,8,2.40,2025-03-03 00:00:00,,r12\n"
        "h2,eight,2.40,2025-03-03 00:00:00,,r12\n"
        "h3,8,2.40,,,r12\n"
        "h4,8,2.40\n"
    )
    parsed = Tabular("csv", HOSTS, frozenset({"valid_to"})).parse(f)
    assert parsed.rows.select("host", "gpu_count", "valid_from").rows() == [("h1", 8, datetime(2025, 3, 3))]
    assert "rack" not in parsed.rows.columns
    got = parsed.rejects.sort("source_line").select("source_line", "reason", "message").rows()
    assert got == [
        (3, "bad_value", "missing or unparseable value in gpu_count"),
        (4, "bad_value", "missing or unparseable value in valid_from"),
        (5, "field_count", "expected 6 fields as in the header"),
    ]
    assert parsed.lines_read == 4


def test_csv_missing_column_quarantines_every_line(tmp_path):
    f = tmp_path / "hosts.csv"
    f.write_text("host,gpu_count\nh1,8\nh2,4\n")
    parsed = Tabular("csv", HOSTS, frozenset({"valid_to"})).parse(f)
    assert parsed.rows.is_empty()
    assert parsed.rejects["reason"].to_list() == ["missing_column"] * 2
    assert "usd_per_gpu_hour" in parsed.rejects["message"][0]


def test_empty_file_gives_the_schema_and_no_rows(tmp_path):
    f = tmp_path / "empty.csv"
    f.write_text("")
    parsed = Tabular("csv", HOSTS).parse(f)
    assert parsed.lines_read == 0
    assert parsed.rows.schema["gpu_count"] == pl.Int64


def test_jsonl_keeps_event_payload_and_rejects_broken_json(tmp_path):
    f = tmp_path / "events.jsonl"
    f.write_text(
        '{"ts": "2025-03-03T10:00:00.000Z", "run_id": "r1", "attempt": 1, "event": "progress", '
        '"samples_new": 10}\n'
        '{"ts": "2025-03-03T10:05:00.000Z", "run_id": "r1", "event": "progr\n'
        "[1, 2]\n"
    )
    parsed = BY_TABLE["training_events"].loader.parse(f)
    assert parsed.rows.select("run_id", "attempt", "event").rows() == [("r1", 1, "progress")]
    assert parsed.rows["attributes"].to_list() == ['{"samples_new":10}']
    assert parsed.rejects.select("source_line", "reason").rows() == [(2, "bad_json"), (3, "bad_json")]


def test_azure_trace_shape_loads_without_model_column(traces):
    parsed = BY_TABLE["inference_requests"].loader.parse(traces / "azure" / "AzureLLMInferenceTrace_code.csv")
    assert parsed.rejects.is_empty()
    assert parsed.rows.height == 8819  # the README's row count
    assert parsed.rows["timestamp"].min() == datetime(2023, 11, 16, 18, 17, 3, 979960)


def test_jsonl_nested_objects_kept_as_json(tmp_path):
    f = tmp_path / "jobs.jsonl"
    f.write_text('{"kind": "Job", "metadata": {"name": "a"}, "spec": {"x": 1}}\n')
    rows = Tabular("jsonl", {"kind": pl.String, "metadata": pl.String, "spec": pl.String}).parse(f).rows
    assert rows.row(0) == (1, "Job", '{"name":"a"}', '{"x":1}')


def test_csv_quoted_values_keep_their_commas_and_quotes(tmp_path):
    f = tmp_path / "users.csv"
    f.write_text('user_name,team,email\n"doe, jane","ml ""core""",\n  bob , infra ,b@x\n')
    rows = Tabular("csv", {"user_name": pl.String, "team": pl.String, "email": pl.String}, frozenset({"email"}))
    assert rows.parse(f).rows.rows() == [(2, "doe, jane", 'ml "core"', None), (3, "bob", "infra", "b@x")]


def test_integers_are_digits_and_a_json_line_is_an_object(tmp_path):
    counts = tmp_path / "c.csv"
    counts.write_text("team,headcount\na,12\nb,1.5\nc,0x10\n")
    parsed = Tabular("csv", {"team": pl.String, "headcount": pl.Int64}).parse(counts)
    assert parsed.rows["headcount"].to_list() == [12]  # DuckDB's cast would round 1.5 and read hex
    assert parsed.rejects["reason"].to_list() == ["bad_value", "bad_value"]
    events = tmp_path / "e.jsonl"
    events.write_text('{"run_id": "a"\n["not", "an", "object"]\n{"run_id": "b", "n": 1}\n')
    parsed = Tabular("jsonl", {"run_id": pl.String}, extra="attributes").parse(events)
    assert parsed.rows.select("run_id", "attributes").rows() == [("b", '{"n":1}')]
    assert parsed.rejects.select("source_line", "reason").rows() == [(1, "bad_json"), (2, "bad_json")]
