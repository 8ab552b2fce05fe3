import gzip
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest
from conftest import FIXTURES

from pipelines.ingest.landing import landed
from pipelines.ingest.parsers.dcgm import file_context, parse_dcgm
from pipelines.ingest.registry import BY_TABLE
from pipelines.ingest.writer import replace_day

AT = datetime(2024, 1, 1, tzinfo=UTC)
DATADOG = FIXTURES / "dcgm" / "datadog_integrations_core_dcgm_fixture_excerpt.prom.txt"
README = FIXTURES / "dcgm" / "dcgm_exporter_readme_examples.prom.txt"


def sample_lines(path: Path) -> int:
    return sum(1 for line in path.read_text().splitlines() if line.strip() and not line.startswith("#"))


def test_datadog_capture_parses_both_exporter_generations():
    parsed = parse_dcgm(DATADOG, scraped_at=AT)
    assert parsed.rejects.is_empty()
    assert parsed.rows.height == sample_lines(DATADOG)
    assert set(parsed.rows["hostname"]) == {"424773df46e0", "551bdf382151"}  # `Hostname` label
    assert set(parsed.rows["model_name"]) == {"Tesla T4"}
    power = parsed.rows.filter(pl.col("metric") == "DCGM_FI_DEV_POWER_USAGE")
    assert power["value"].to_list() == [8.969]
    fb_free = parsed.rows.filter(pl.col("metric") == "DCGM_FI_DEV_FB_FREE")["value"].to_list()
    assert fb_free == [15109.0]
    assert parsed.rows["scraped_at"].unique().to_list() == [AT]  # no sample timestamps: the file's scrape time


def test_readme_examples_quarantine_sentinels_and_non_prometheus_lines():
    parsed = parse_dcgm(README, scraped_at=AT, default_host="readme-host")
    reasons = dict(parsed.rejects.group_by("reason").len().iter_rows())
    # three MEMORY_TEMP lines carry the DCGM blank value; two lines are the README's CSV metric list
    assert reasons == {"dcgm_blank_sentinel": 3, "unparseable_line": 2}
    assert parsed.lines_read == sample_lines(README)
    # 2020 exporter: labels separated by spaces, not commas
    assert parsed.rows.filter(pl.col("gpu_uuid").is_null()).is_empty()
    assert set(parsed.rows["hostname"]) == {"readme-host"}
    sentinel = parsed.rejects.filter(pl.col("reason") == "dcgm_blank_sentinel")
    assert sentinel["raw_text"].str.contains("DCGM_FI_DEV_MEMORY_TEMP").all()
    assert sentinel["source_line"].to_list() == sorted(sentinel["source_line"].to_list())


def test_sample_timestamps_labels_and_bad_values(tmp_path):
    f = tmp_path / "gpu-node-7.prom"
    f.write_text(
        "# HELP DCGM_FI_DEV_GPU_UTIL GPU utilization (in %).\n"
        "# TYPE DCGM_FI_DEV_GPU_UTIL gauge\n"
        'DCGM_FI_DEV_GPU_UTIL{gpu="3",UUID="GPU-x",modelName="NVIDIA H100 80GB HBM3",hostname="n7",'
        'container="trainer",namespace="team-a",pod="job-1-worker-0"} 87 1740960000829\n'
        'DCGM_FI_DEV_GPU_UTIL{gpu="3",UUID="GPU-x",hostname="n7"} NaN 1740960060829\n'
        'DCGM_FI_DEV_GPU_UTIL{gpu="3",UUID="GPU-x",hostname="n7"} abc 1740960060829\n'
        'DCGM_FI_DEV_GPU_UTIL{gpu="3",UUID="GPU-x",hostname="n7"} 12\n'
        "not a metric line at all {\n"
    )
    parsed = parse_dcgm(f)
    row = parsed.rows.row(0, named=True)
    assert row["hostname"] == "n7" and row["gpu"] == 3 and row["pod"] == "job-1-worker-0"
    assert row["scraped_at"] == datetime(2025, 3, 3, 0, 0, 0, 829000, tzinfo=UTC)
    assert dict(parsed.rejects.select("source_line", "reason").iter_rows()) == {
        4: "non_finite_value",
        5: "bad_value",
        6: "missing_timestamp",
        7: "unparseable_line",
    }
    assert parsed.lines_read == 5


def test_scrape_time_comes_from_the_file_name(tmp_path):
    f = tmp_path / "node-3_20250303T120000Z.prom"
    f.write_text('DCGM_FI_DEV_GPU_UTIL{gpu="0",UUID="GPU-y"} 50\n')
    scraped_at, host = file_context(f)
    rows = parse_dcgm(f, scraped_at, host).rows
    assert rows["scraped_at"].to_list() == [datetime(2025, 3, 3, 12, tzinfo=UTC)]
    assert rows["hostname"].to_list() == ["node-3"]


def test_invalid_utf8_is_quarantined_with_its_line(tmp_path):
    f = tmp_path / "h.prom"
    f.write_bytes(
        b'DCGM_FI_DEV_GPU_UTIL{gpu="0",UUID="a",Hostname="h"} 1 1700000000000\n'
        b'DCGM_FI_DEV_GPU_UTIL{gpu="1",UUID="\xff\xfe",Hostname="h"} 1 1700000000000\n'
    )
    parsed = parse_dcgm(f)
    assert parsed.rows.height == 1
    assert parsed.rejects.select("source_line", "reason").rows() == [(2, "invalid_utf8")]


def test_a_day_of_files_loads_in_one_statement_with_units_and_audit_per_file(tmp_path):
    """Many files (one gzipped, one stating GPU_UTIL as a ratio) load together; each keeps its own unit, its line
    numbers and its audit row, and the day reconciles file by file."""
    folder = tmp_path / "dcgm_samples" / "dt=2025-03-03"
    folder.mkdir(parents=True)
    sample = 'DCGM_FI_DEV_GPU_UTIL{{gpu="{g}",UUID="GPU-{g}",Hostname="{h}"}} {v} 1740960000000\n'
    (folder / "a.prom").write_text(
        "# HELP DCGM_FI_DEV_GPU_UTIL GPU utilization (in %).\n"
        + sample.format(g=0, h="a", v=87)
        + sample.format(g=1, h="a", v=187)  # impossible for a percentage
    )
    ratio = "# HELP DCGM_FI_DEV_GPU_UTIL GPU utilization (in ratio).\n" + sample.format(g=0, h="b", v=0.5)
    (folder / "b.prom.gz").write_bytes(gzip.compress((ratio + "\n" + sample.format(g=1, h="b", v=1.5)).encode()))
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        con.execute("set TimeZone = 'UTC'")
        summary = replace_day(con, BY_TABLE["dcgm_samples"], "2025-03-03", landed(sorted(folder.iterdir()), tmp_path))
        assert summary == {"files": 2, "rows_read": 4, "rows_loaded": 2, "rows_quarantined": 2}
        loaded = con.execute(
            "select hostname, gpu, value, unit, source_line from raw.dcgm_samples order by 1"
        ).fetchall()
        assert loaded == [("a", 0, 87.0, "%", 2), ("b", 0, 0.5, "ratio", 2)]
        rejected = con.execute("select source_file, source_line, reason from raw.quarantine order by 1").fetchall()
        assert rejected == [
            ("dcgm_samples/dt=2025-03-03/a.prom", 3, "out_of_range"),
            ("dcgm_samples/dt=2025-03-03/b.prom.gz", 4, "out_of_range"),  # line 3 is blank, not a sample
        ]
        audit = con.execute(
            "select source_file, rows_read, rows_loaded, status from raw.load_audit order by 1"
        ).fetchall()
        assert [a[1:] for a in audit] == [(2, 1, "partial"), (2, 1, "partial")]


def test_a_day_with_a_file_that_is_not_utf8_loads_the_rest_and_quarantines_the_line(tmp_path):
    """DuckDB refuses the whole day when one file is not UTF-8: the loader loads it again with that file sanitised,
    so only the line with the bad bytes is lost to the quarantine, and nothing of the first attempt remains."""
    folder = tmp_path / "dcgm_samples" / "dt=2025-03-03"
    folder.mkdir(parents=True)
    line = 'DCGM_FI_DEV_GPU_UTIL{{gpu="{g}",UUID="GPU-{g}",Hostname="{h}"}} 5 1740960000000\n'
    (folder / "a.prom").write_text(line.format(g=0, h="a") + line.format(g=1, h="a"))
    (folder / "b.prom").write_bytes(line.format(g=0, h="b").encode() + line.format(g=1, h="b\xff").encode("latin-1"))
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        con.execute("set TimeZone = 'UTC'")
        summary = replace_day(con, BY_TABLE["dcgm_samples"], "2025-03-03", landed(sorted(folder.iterdir()), tmp_path))
        assert summary == {"files": 2, "rows_read": 4, "rows_loaded": 3, "rows_quarantined": 1}
        assert con.execute("select hostname, gpu from raw.dcgm_samples order by all").fetchall() == [
            ("a", 0),
            ("a", 1),
            ("b", 0),
        ]
        assert con.execute("select source_file, source_line, reason from raw.quarantine").fetchall() == [
            ("dcgm_samples/dt=2025-03-03/b.prom", 2, "invalid_utf8")
        ]
        assert con.execute("select count(*) from raw.load_audit").fetchall() == [(2,)]


def test_a_label_value_may_hold_braces_and_the_tail_its_usual_variants(tmp_path):
    """The labels end at the last '}': a pod name with braces keeps them; the value may stand without a timestamp
    or with trailing blanks; a tail with a fourth field is no sample."""
    f = tmp_path / "h.prom"
    f.write_text(
        'DCGM_FI_DEV_GPU_UTIL{gpu="0",UUID="GPU-a",Hostname="h",pod="train-{x}-0"} 40 1740960000000\n'
        'DCGM_FI_DEV_GPU_UTIL{gpu="1",UUID="GPU-b",Hostname="h",pod="a}b}c"} 41\n'
        'DCGM_FI_DEV_GPU_UTIL{gpu="2",UUID="GPU-c",Hostname="h"} 42 1740960000000 \n'
        'DCGM_FI_DEV_GPU_UTIL{gpu="3",UUID="GPU-d",Hostname="h"} 43 1740960000000 7\n'
    )
    parsed = parse_dcgm(f, scraped_at=AT)
    assert parsed.rows.select("gpu", "pod", "value").rows() == [
        (0, "train-{x}-0", 40.0),
        (1, "a}b}c", 41.0),
        (2, None, 42.0),
    ]
    assert parsed.rows["scraped_at"].to_list()[1] == AT  # no timestamp of its own: the file's scrape time
    assert parsed.rejects.select("source_line", "reason").rows() == [(4, "unparseable_line")]


@pytest.mark.parametrize(
    "name, host",
    [
        ("gpu_node_01.prom", "gpu_node_01"),
        ("gpu_node_01_20250303T120000Z.prom", "gpu_node_01"),
        ("10.0.0.5.prom.gz", "10.0.0.5"),
        ("node-3.txt", "node-3"),
    ],
)
def test_the_host_is_the_whole_file_name_before_its_scrape_time_and_extension(name, host):
    assert file_context(Path(name))[1] == host


def test_an_openmetrics_exemplar_is_not_the_samples_value(tmp_path):
    f = tmp_path / "h.prom"
    f.write_text(
        'DCGM_FI_DEV_GPU_UTIL{gpu="0",UUID="GPU-a",Hostname="h"} 97 # {trace_id="x"} 3.0 1741000000\n'
        'DCGM_FI_DEV_GPU_UTIL{gpu="1",UUID="GPU-b",Hostname="h"} 95 1740960000000 # {trace_id="y"} 2.0\n'
    )
    rows = parse_dcgm(f, scraped_at=datetime(2025, 3, 3, 12, tzinfo=UTC)).rows
    assert rows.select("gpu", "value").rows() == [(0, 97.0), (1, 95.0)]
    assert rows["scraped_at"].to_list() == [datetime(2025, 3, 3, 12, tzinfo=UTC), datetime(2025, 3, 3, tzinfo=UTC)]


def test_label_values_are_unescaped_and_a_label_named_twice_is_quarantined(tmp_path):
    """The exposition format escapes `\\`, `"` and newline in label values; Prometheus refuses a sample whose
    label set names a label twice (which value would be the GPU's?)."""
    f = tmp_path / "h.prom"
    f.write_text(
        r'DCGM_FI_DEV_GPU_UTIL{gpu="0",UUID="GPU-a",Hostname="h",pod="a\\b",container="say \"hi\"\nbye"} 40'
        "\n"
        r'DCGM_FI_DEV_GPU_UTIL{gpu="1",UUID="GPU-b",Hostname="h",pod="x,gpu=\"7\""} 41'
        "\n"
        'DCGM_FI_DEV_GPU_UTIL{gpu="2",UUID="GPU-c",Hostname="h",gpu="3"} 42\n'
        'DCGM_FI_DEV_GPU_UTIL{gpu="4",UUID="GPU-d",Hostname="h",pod=""} 43\n'
    )
    parsed = parse_dcgm(f, scraped_at=AT)
    assert parsed.rows.select("gpu", "pod", "container").rows() == [
        (0, "a\\b", 'say "hi"\nbye'),
        (1, 'x,gpu="7"', None),  # a label inside a value is part of the value
        (4, "", None),  # present and empty is not absent
    ]
    assert parsed.rejects.select("source_line", "reason").rows() == [(3, "duplicate_label")]


MIG = FIXTURES / "dcgm" / "dcgm_exporter_4x_mig.prom.txt"


def test_a_4x_exporter_on_mig_instances_loads_every_line_with_its_instance():
    parsed = parse_dcgm(MIG, scraped_at=AT)
    # the blank XID count, the PCIe byte rates and FB_RESERVED are good lines, not rejects
    assert parsed.rejects.is_empty()
    assert parsed.rows.height == sample_lines(MIG)
    instances = parsed.rows.select("gpu", "gpu_instance_id", "gpu_instance_profile").unique().sort("gpu_instance_id")
    assert instances.rows() == [(0, "2", "3g.40gb"), (0, "9", "1g.10gb")]
    xid = parsed.rows.filter(pl.col("metric") == "DCGM_FI_DEV_XID_ERRORS")
    assert xid["value"].null_count() == 2  # no XID: an empty reading
    pcie = parsed.rows.filter(pl.col("metric") == "DCGM_FI_PROF_PCIE_RX_BYTES")["value"].to_list()
    assert pcie == [23559081.0, 23559081.0]


def test_an_unknown_mig_profile_is_quarantined_and_the_rest_of_the_scrape_loads(tmp_path):
    f = tmp_path / "mig-host.prom"
    lines = MIG.read_text().splitlines()
    held = [i for i, line in enumerate(lines) if 'GPU_I_PROFILE="3g.40gb"' in line]
    lines[held[0]] = lines[held[0]].replace("3g.40gb", "5g.50gb")  # no A100 instance has 5 slices
    lines[held[3]] = lines[held[3]].replace("NVIDIA A100-SXM4-80GB", "NVIDIA L4")  # an L4 has no MIG
    f.write_text("\n".join(lines) + "\n")
    parsed = parse_dcgm(f, scraped_at=AT)
    assert parsed.rejects["reason"].to_list() == ["unknown_mig_profile"] * 2
    assert parsed.rejects["source_line"].to_list() == [held[0] + 1, held[3] + 1]
    assert "5g.50gb is no MIG profile of NVIDIA A100-SXM4-80GB" in parsed.rejects["message"][0]
    assert parsed.rows.height == sample_lines(MIG) - 2


def test_a_time_sliced_gpus_replica_series_keep_their_vgpu(tmp_path):
    """With KUBERNETES_VIRTUAL_GPUS the exporter copies a shared GPU's series once per replica, labelled vgpu."""
    f = tmp_path / "ts-host.prom"
    labels = 'gpu="0",UUID="GPU-t",modelName="NVIDIA L4",Hostname="ts-host"'
    f.write_text(
        f'DCGM_FI_DEV_GPU_UTIL{{{labels},vgpu="0",pod="a-0",namespace="n"}} 40 1740960000000\n'
        f'DCGM_FI_DEV_GPU_UTIL{{{labels},vgpu="1"}} 40 1740960000000\n'
    )
    parsed = parse_dcgm(f)
    assert parsed.rejects.is_empty()
    assert parsed.rows.select("gpu_replica", "pod").rows() == [("0", "a-0"), ("1", None)]
