from datetime import datetime
from pathlib import Path

import polars as pl
from conftest import FIXTURES

from pipelines.ingest.parsers.nvidia_smi import parse_nvidia_smi


def test_units_in_header_and_values_are_stripped_and_na_is_null():
    parsed = parse_nvidia_smi(FIXTURES / "nvidia_smi" / "query_gpu_units.csv", hostname="v100-host")
    assert parsed.rejects.is_empty()
    assert parsed.rows.height == 4
    first = parsed.rows.row(0, named=True)
    assert first["measured_at_local"] == datetime(2024, 5, 24, 14, 49, 6, 522000)
    assert first["memory_used_mib"] == 3.0 and first["memory_total_mib"] == 16384.0
    assert first["power_draw_w"] == 41.52 and first["temperature_gpu_c"] == 37.0
    busy = parsed.rows.filter(pl.col("gpu") == 1)
    assert busy["utilization_gpu_pct"].to_list() == [98.0, 97.0]
    assert busy["power_draw_w"].null_count() == 2  # [N/A] is "no reading", not zero and not an error


def test_nounits_format_and_not_supported():
    parsed = parse_nvidia_smi(FIXTURES / "nvidia_smi" / "query_gpu_nounits.csv", hostname="l4-host")
    assert parsed.rejects.is_empty()
    assert parsed.rows["utilization_gpu_pct"].to_list() == [35.0, None]
    assert parsed.rows["memory_free_mib"].to_list() == [21800.0, 22734.0]


def test_unexpected_unit_rejects_the_file_with_a_reason(tmp_path):
    f = tmp_path / "h.csv"
    f.write_text(
        "timestamp, uuid, index, utilization.gpu [%], memory.used [GiB]\n"
        "2024/05/24 14:49:06.522, GPU-a, 0, 5 %, 1 GiB\n"
    )
    parsed = parse_nvidia_smi(f, hostname="h")
    assert parsed.rows.is_empty()
    assert parsed.rejects["reason"].to_list() == ["bad_header", "bad_header"]
    assert "memory.used is in [GiB]" in parsed.rejects["message"][0]


def test_short_lines_and_bad_numbers_are_quarantined(tmp_path):
    f = tmp_path / "h.csv"
    f.write_text(
        "timestamp, uuid, index, utilization.gpu [%]\n"
        "2024/05/24 14:49:06.522, GPU-a, 0, 5 %\n"
        "2024/05/24 14:49:06.522, GPU-a, 0\n"
        "2024/05/24 14:49:06.522, GPU-a, zero, 5 %\n"
        "24-05-2024, GPU-a, 0, 5 %\n"
    )
    parsed = parse_nvidia_smi(f, hostname="h")
    assert parsed.rows.height == 1
    assert parsed.rejects.sort("source_line").select("source_line", "reason").rows() == [
        (3, "field_count"),
        (4, "bad_value"),
        (5, "bad_value"),
    ]
    assert parsed.lines_read == 4


def test_a_day_parsed_at_once_matches_each_log_parsed_alone(tmp_path, monkeypatch):
    from pipelines.ingest.parsers import nvidia_smi

    bad_header = tmp_path / "bad.csv"
    bad_header.write_text(
        "timestamp, uuid, index, utilization.gpu [%], memory.used [GiB]\n"
        "2024/05/24 14:49:06.522, GPU-a, 0, 5 %, 1 GiB\n"
    )
    broken = tmp_path / "broken.csv"
    broken.write_bytes(
        b"timestamp, uuid, index, utilization.gpu [%]\n"
        b"2024/05/24 14:49:06.522, GPU-a, 0, 5 %\n"
        b"\n2024/05/24 14:49:07.522, GPU-a, 0\n"  # a blank line, then a short one
        b"timestamp, uuid, index, utilization.gpu [%]\n"  # a restarted logger's header
        b"2024/05/24 14:49:08.522, GPU-a, 0, 140 %\r\n"
        b"2024/05/24 14:49:09.522, GPU-\xff, 0, 7 %\n"
    )
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    logs = [FIXTURES / "nvidia_smi" / "query_gpu_units.csv", bad_header, broken, empty]
    logs.append(FIXTURES / "nvidia_smi" / "query_gpu_nounits.csv")
    hosts = [f"host{i}" for i in range(len(logs))]
    alone = [parse_nvidia_smi(f, hostname=h) for f, h in zip(logs, hosts, strict=True)]
    expected_rows = pl.concat([p.rows.with_columns(file=pl.lit(i, pl.Int32)) for i, p in enumerate(alone)])
    expected_rejects = pl.concat([p.rejects.with_columns(file=pl.lit(i, pl.Int32)) for i, p in enumerate(alone)])
    assert expected_rejects["reason"].unique().sort().to_list() == [
        "bad_header",
        "field_count",
        "invalid_utf8",
        "out_of_range",
    ]
    for batch_bytes in (1 << 26, 64):  # the whole day in one batch; about a file per batch
        monkeypatch.setattr(nvidia_smi, "BATCH_BYTES", batch_bytes)
        day = nvidia_smi.parse_nvidia_smi_day(logs, hosts)
        assert day.rows.sort("file", "source_line").equals(expected_rows.sort("file", "source_line"))
        assert day.rejects.sort("file", "source_line").equals(expected_rejects.sort("file", "source_line"))


def test_a_log_named_by_ip_or_with_underscores_keeps_its_whole_host_name():
    from pipelines.ingest.parsers.nvidia_smi import host_of

    assert [host_of(Path(n)) for n in ("10.0.0.5.csv", "gpu_node_01.csv", "a.b.csv.gz")] == [
        "10.0.0.5",
        "gpu_node_01",
        "a.b",
    ]
