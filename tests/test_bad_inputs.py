"""The bad-input corpus: what real collectors and exports deliver on a bad day. Every case is loaded through the
same path as production (parse, then replace the partition in DuckDB) and must end with: no crash, every line
either loaded or quarantined with file, line and reason, and the audit reconciled (read = loaded + quarantined)."""

from dataclasses import dataclass, field

import duckdb
import pytest
from conftest import FIXTURES

from pipelines.ingest.landing import landed
from pipelines.ingest.registry import BY_TABLE
from pipelines.ingest.writer import replace_day

DAY = "2025-03-03"
TS = "1740960000000"  # 2025-03-03T00:00:00Z in ms
LABELS = 'gpu="0",UUID="GPU-a",modelName="NVIDIA H100 80GB HBM3",Hostname="h1"'
HELP_UTIL = "# HELP DCGM_FI_DEV_GPU_UTIL GPU utilization (in %).\n# TYPE DCGM_FI_DEV_GPU_UTIL gauge\n"
SMI_HEADER = "timestamp, name, uuid, index, utilization.gpu [%], memory.used [MiB], power.draw [W]\n"
SACCT_HEADER = "JobID|Cluster|Account|User|Submit|Start|End|State|AllocTRES|NodeList\n"
HOSTS_HEADER = "host,cluster,region,gpu_model,gpu_count,pool,reservation,usd_per_gpu_hour,valid_from,valid_to\n"


def util(value, ts=TS, labels=LABELS):
    return f"DCGM_FI_DEV_GPU_UTIL{{{labels}}} {value} {ts}\n"


def smi(util_cell="35 %", power="40.1 W", ts="2025/03/03 10:00:00.000"):
    return f"{ts}, NVIDIA L4, GPU-b, 0, {util_cell}, 100 MiB, {power}\n"


@dataclass
class Case:
    name: str
    table: str
    filename: str
    content: bytes
    loaded: int
    quarantined: dict[str, int] = field(default_factory=dict)


CASES = [
    Case("empty_file", "dcgm_samples", "h1.prom", b"", 0),
    Case("header_alone", "hosts", "hosts.csv", HOSTS_HEADER.encode(), 0),
    Case(
        "truncated_last_line",
        "dcgm_samples",
        "h1.prom",
        (HELP_UTIL + util(50) + 'DCGM_FI_DEV_GPU_UTIL{gpu="0",UUID="GPU-a",Hostn').encode(),
        1,
        {"unparseable_line": 1},
    ),
    Case(
        "non_utf8_bytes",
        "nvidia_smi_samples",
        "h2.csv",
        (SMI_HEADER + smi()).encode() + b"2025/03/03 10:00:05.000, NVIDIA L\xff4, GPU-b, 0, 35 %, 1 MiB, 4 W\n",
        1,
        {"invalid_utf8": 1},
    ),
    Case(
        "nan_and_inf",
        "dcgm_samples",
        "h1.prom",
        (HELP_UTIL + util("NaN") + util("+Inf") + util(7)).encode(),
        1,
        {"non_finite_value": 2},
    ),
    Case(
        "dcgm_blank_sentinel",
        "dcgm_samples",
        "h1.prom",
        (util(9223372036854775794) + util(140737488355328) + util(3)).encode(),
        1,
        {"dcgm_blank_sentinel": 2},
    ),
    Case(
        "utilisation_over_100",
        "dcgm_samples",
        "h1.prom",
        (HELP_UTIL + util(130) + util(99)).encode(),
        1,
        {"out_of_range": 1},
    ),
    Case(
        "negative_power",
        "nvidia_smi_samples",
        "h2.csv",
        (SMI_HEADER + smi(power="-5.0 W") + smi()).encode(),
        1,
        {"out_of_range": 1},
    ),
    Case(
        "end_before_start",
        "sacct_jobs",
        "s.txt",
        (
            SACCT_HEADER + "1|c|t|u|2025-03-03T00:00:00|2025-03-03T05:00:00|2025-03-03T04:00:00|COMPLETED|"
            "gres/gpu=1|n1\n" + "2|c|t|u|2025-03-03T00:00:00|2025-03-03T01:00:00|2025-03-03T04:00:00|COMPLETED|"
            "gres/gpu=1|n1\n"
        ).encode(),
        1,
        {"end_before_start": 1},
    ),
    Case("duplicate_scrapes", "dcgm_samples", "h1.prom", (util(50) + util(50)).encode(), 2),  # staging dedups
    Case(
        "out_of_order_samples",
        "dcgm_samples",
        "h1.prom",
        (util(50, "1740960600000") + util(40, "1740960300000") + util(30, TS)).encode(),
        3,
    ),
    Case("unknown_host", "nvidia_smi_samples", "not-in-inventory.csv", (SMI_HEADER + smi()).encode(), 1),
    Case(
        "unknown_model_in_traffic",
        "inference_requests",
        "r.csv",
        b"TIMESTAMP,Model,ContextTokens,GeneratedTokens,LatencyMs\n"
        b"2025-03-03 10:00:00.0000000,no-such-model,10,5,12.5\n",
        1,
    ),
    Case(
        "clock_skew",
        "dcgm_samples",
        "h1.prom",
        (util(50) + util(60, "1741564800000")).encode(),
        1,
        {"timestamp_outside_partition": 1},
    ),  # the second sample claims 2025-03-10
    Case(
        "clock_skew_nvidia_smi",
        "nvidia_smi_samples",
        "h2.csv",
        (SMI_HEADER + smi() + smi(ts="2025/03/10 10:00:00.000")).encode(),
        1,
        {"timestamp_outside_partition": 1},
    ),
    Case(
        "clock_skew_requests",
        "inference_requests",
        "r.csv",
        b"TIMESTAMP,Model,ContextTokens,GeneratedTokens,LatencyMs\n"
        b"2025-03-03 10:00:00.0000000,m,10,5,12.5\n"
        b"2025-02-27 10:00:00.0000000,m,10,5,12.5\n",
        1,
        {"timestamp_outside_partition": 1},
    ),
    Case(
        "negative_tokens_and_latency",
        "inference_requests",
        "r.csv",
        b"TIMESTAMP,Model,ContextTokens,GeneratedTokens,LatencyMs\n"
        b"2025-03-03 10:00:00.0000000,m,10,5,12.5\n"
        b"2025-03-03 10:00:01.0000000,m,-10,5,12.5\n"
        b"2025-03-03 10:00:02.0000000,m,10,5,-1\n",
        1,
        {"out_of_range": 2},
    ),
    Case(
        "impossible_temperature",
        "nvidia_smi_samples",
        "h2.csv",
        (
            b"timestamp, uuid, index, utilization.gpu [%], temperature.gpu\n"
            b"2025/03/03 10:00:00.000, GPU-b, 0, 35 %, 61\n"
            b"2025/03/03 10:00:01.000, GPU-b, 0, 35 %, 612\n"
        ),
        1,
        {"out_of_range": 1},
    ),
    Case(
        "unknown_event",
        "training_events",
        "e.jsonl",
        b'{"ts": "2025-03-03T00:00:00Z", "run_id": "r", "event": "progress"}\n'
        b'{"ts": "2025-03-03T00:00:01Z", "run_id": "r", "event": "exploded"}\n',
        1,
        {"unknown_value": 1},
    ),
    Case(
        "json_nan_or_boolean_where_a_value_belongs",
        "training_events",
        "e.jsonl",
        b'{"ts": "2025-03-03T00:00:00Z", "run_id": 42, "event": "progress"}\n'  # a numeric id is an id
        b'{"ts": "2025-03-03T00:00:01Z", "run_id": true, "event": "progress"}\n'
        b'{"ts": "2025-03-03T00:00:02Z", "run_id": NaN, "event": "progress"}\n'
        b'{"ts": "2025-03-03T00:00:03Z", "run_id": "r", "event": "progress", "attempt": NaN}\n'
        b'{"ts": "2025-03-03T00:00:04Z", "run_id": "r", "event": "progress", "attempt": true}\n',
        1,
        {"bad_value": 4},
    ),
    Case(
        "infinite_nan_or_negative_latency",
        "inference_requests",
        "r.csv",
        b"TIMESTAMP,Model,ContextTokens,GeneratedTokens,LatencyMs\n"
        b"2025-03-03 00:00:00,m,1,1,12.5\n2025-03-03 00:00:01,m,1,1,inf\n2025-03-03 00:00:02,m,1,1,NaN\n"
        b"2025-03-03 00:00:03,m,1,1,-3\n2025-03-03 00:00:04,m,-1,1,3\n",
        1,
        {"bad_value": 2, "out_of_range": 2},
    ),
    Case(
        "host_listed_twice_with_overlapping_validity",
        "hosts",
        "hosts.csv",
        (
            HOSTS_HEADER
            + "h1,c,r,NVIDIA L4,8,inference,none,0.80,2025-03-01 00:00:00,2025-03-10 00:00:00\n"
            + "h1,c,r,NVIDIA L4,4,inference,none,0.80,2025-03-05 00:00:00,\n"  # overlaps: quarantined
            + "h2,c,r,NVIDIA L4,8,inference,none,0.80,2025-03-03 00:00:00,\n"
            + "h2,c,r,NVIDIA L4,8,training,none,0.80,2025-03-01 00:00:00,2025-03-03 00:00:00\n"  # ends as h2 starts
            + "h3,c,r,NVIDIA L4,8,inference,none,0.80,2025-03-01 00:00:00,\n"
            + "h3,c,r,NVIDIA L4,8,inference,none,0.90,2025-03-01 00:00:00,\n"  # the same start: the later line
            + "h4,c,r,NVIDIA L4,99,inference,none,0.80,2025-03-01 00:00:00,\n"  # rejected on its own (gpu_count)
            + "h4,c,r,NVIDIA L4,8,inference,none,0.80,2025-03-02 00:00:00,\n"  # so this one overlaps nothing
        ).encode(),
        5,
        {"overlapping_validity": 2, "out_of_range": 1},
    ),
    Case(
        "missing_column",
        "hosts",
        "hosts.csv",
        b"host,cluster,gpu_model,gpu_count,pool\nh1,c,NVIDIA L4,8,inference\nh2,c,NVIDIA L4,8,inference\n",
        0,
        {"missing_column": 2},
    ),
    Case(
        "extra_column",
        "hosts",
        "hosts.csv",
        (
            HOSTS_HEADER.rstrip("\n") + ",rack\n" + "h1,c,r,NVIDIA L4,8,inference,none,0.80,2025-03-01 00:00:00,,r12\n"
        ).encode(),
        1,
    ),
    Case(
        "label_rename_hostname",
        "dcgm_samples",
        "h1.prom",
        util(50, labels='gpu="0",UUID="GPU-a",hostname="h1"').encode(),
        1,
    ),
    Case(
        "exporter_unit_change",
        "dcgm_samples",
        "h1.prom",
        b"# HELP DCGM_FI_DEV_GPU_UTIL GPU utilization (in ratio).\n" + util(0.5).encode() + util(1.5).encode(),
        1,
        {"out_of_range": 1},
    ),  # a ratio above 1 is impossible
    Case(
        "sacct_steps_and_unknown_end",
        "sacct_jobs",
        "s.txt",
        (
            SACCT_HEADER
            + "7|c|t|u|2025-03-03T00:00:00|2025-03-03T01:00:00|Unknown|RUNNING|gres/gpu=8|n[1-2]\n"
            + "7.batch|c||||2025-03-03T01:00:00|Unknown|RUNNING|gres/gpu=8|n1\n"
            + "8|c|t|u|2025-03-03T00:00:00|None|None|PENDING||None assigned\n"
        ).encode(),
        3,
    ),
    Case(
        "nodelist_of_millions",  # 90 bytes asking for 100 million host names: refused before any is made
        "sacct_jobs",
        "s.txt",
        (
            SACCT_HEADER
            + "9|c|t|u|2025-03-03T00:00:00|2025-03-03T01:00:00|2025-03-03T02:00:00|COMPLETED|gres/gpu=8|"
            + "n[00000000-99999999]\n"
            + "10|c|t|u|2025-03-03T00:00:00|2025-03-03T01:00:00|2025-03-03T02:00:00|COMPLETED|gres/gpu=8|n[1-2]\n"
        ).encode(),
        1,
        {"nodelist_too_large": 1},
    ),
    Case(
        "byte_order_mark_csv",  # Excel and PowerShell write one before the header
        "hosts",
        "hosts.csv",
        b"\xef\xbb\xbf" + (HOSTS_HEADER + "h1,c,r,NVIDIA L4,8,inference,none,0.80,2025-03-01 00:00:00,\n").encode(),
        1,
    ),
    Case(
        "byte_order_mark_nvidia_smi",
        "nvidia_smi_samples",
        "h2.csv",
        b"\xef\xbb\xbf" + (SMI_HEADER + smi()).encode(),
        1,
    ),
    Case("byte_order_mark_dcgm", "dcgm_samples", "h1.prom", b"\xef\xbb\xbf" + (HELP_UTIL + util(50)).encode(), 1),
    Case(
        "implausible_physical_readings",  # 5 kW from one GPU, 9 TB of memory; an unset 32-bit XID is no error code
        "dcgm_samples",
        "h1.prom",
        (
            util(50)
            + f"DCGM_FI_DEV_POWER_USAGE{{{LABELS}}} 5000 {TS}\n"
            + f"DCGM_FI_DEV_FB_USED{{{LABELS}}} 9000000 {TS}\n"
            + f"DCGM_FI_DEV_XID_ERRORS{{{LABELS}}} 4294967295 {TS}\n"
        ).encode(),
        1,
        {"out_of_range": 3},
    ),
    Case(
        "beyond_the_gpu_models_own_limits",  # an H100 80GB: 700 W at most (a short excursion above), 80 GiB
        "dcgm_samples",
        "h1.prom",
        (
            f"DCGM_FI_DEV_POWER_USAGE{{{LABELS}}} 820 {TS}\n"  # within the excursion: loads
            + f"DCGM_FI_DEV_POWER_USAGE{{{LABELS}}} 1100 {TS}\n"
            + f"DCGM_FI_DEV_FB_USED{{{LABELS}}} 81000 {TS}\n"
            + f"DCGM_FI_DEV_FB_USED{{{LABELS}}} 96000 {TS}\n"
            + f"DCGM_FI_DEV_POWER_USAGE{{{LABELS.replace('H100 80GB HBM3', 'Z9')}}} 1100 {TS}\n"  # a model not listed
        ).encode(),
        3,
        {"out_of_range": 2},
    ),
    Case(
        "memory_in_bytes_is_judged_in_bytes",  # newer exporters state the unit in HELP; staging converts
        "dcgm_samples",
        "h1.prom",
        (
            "# HELP DCGM_FI_DEV_FB_USED Framebuffer memory used (in B).\n# TYPE DCGM_FI_DEV_FB_USED gauge\n"
            + f"DCGM_FI_DEV_FB_USED{{{LABELS}}} 80000000000 {TS}\n"
            + f"DCGM_FI_DEV_FB_USED{{{LABELS}}} 90000000000 {TS}\n"
        ).encode(),
        1,
        {"out_of_range": 1},
    ),
    Case(
        "beyond_an_l4s_power_in_nvidia_smi",  # an L4 is a 72 W card
        "nvidia_smi_samples",
        "h2.csv",
        (SMI_HEADER + smi(power="90.0 W") + smi(power="140.0 W")).encode(),
        1,
        {"out_of_range": 1},
    ),
    Case(
        "uuid_without_gpu_index",  # staging needs the index: loaded, it would vanish there while "loaded"
        "dcgm_samples",
        "h1.prom",
        (util(50) + util(60, labels='UUID="GPU-a",Hostname="h1"')).encode(),
        1,
        {"missing_gpu": 1},
    ),
    Case(
        "non_finite_latency",
        "inference_requests",
        "r.csv",
        b"TIMESTAMP,Model,ContextTokens,GeneratedTokens,LatencyMs\n"
        b"2025-03-03 10:00:00.0000000,m,10,5,12.5\n"
        b"2025-03-03 10:00:01.0000000,m,10,5,NaN\n"
        b"2025-03-03 10:00:02.0000000,m,10,5,inf\n",
        1,
        {"bad_value": 2},
    ),
    Case(
        "reservation_outside_its_set",  # it failed a dbt test and stopped the build
        "hosts",
        "hosts.csv",
        (
            HOSTS_HEADER
            + "h1,c,r,NVIDIA L4,8,inference,none,0.80,2025-03-01 00:00:00,\n"
            + "h2,c,r,NVIDIA L4,8,inference,spare,0.80,2025-03-01 00:00:00,\n"
        ).encode(),
        1,
        {"unknown_value": 1},
    ),
    Case(
        "real_readme_examples",
        "dcgm_samples",
        "readme_20250303T000000Z.prom",
        (FIXTURES / "dcgm" / "dcgm_exporter_readme_examples.prom.txt").read_bytes(),
        6,  # 9 samples, 3 of them the blank sentinel
        {"dcgm_blank_sentinel": 3, "unparseable_line": 2},
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_is_loaded_or_quarantined_and_reconciled(tmp_path, case):
    source = BY_TABLE[case.table]
    landing = tmp_path / "landing"
    path = landing / case.table / f"dt={DAY}" / case.filename
    path.parent.mkdir(parents=True)
    path.write_bytes(case.content)
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        summary = replace_day(con, source, DAY, landed([path], landing))
        assert summary["rows_loaded"] == case.loaded
        reasons = dict(con.execute("select reason, count(*) from raw.quarantine group by 1").fetchall())
        assert reasons == case.quarantined
        read, loaded, quarantined, status = con.execute(
            "select rows_read, rows_loaded, rows_quarantined, status from raw.load_audit"
        ).fetchall()[0]
        assert read == loaded + quarantined and loaded == case.loaded
        assert (status == "empty") == (read == 0)  # a delivery with nothing in it is seen as such
        named = con.execute(
            "select count(*) from raw.quarantine where source_file = ? and source_line > 0 and message <> ''",
            [f"{case.table}/dt={DAY}/{case.filename}"],
        ).fetchall()[0][0]
        assert named == sum(case.quarantined.values())
        assert con.execute(f"select count(*) from raw.{case.table}").fetchall()[0][0] == case.loaded


def test_a_very_large_file_streams_through_and_reconciles(tmp_path):
    lines = [HELP_UTIL] + [util(i % 101, str(1740960000000 + i * 400)) for i in range(200_000)]
    case = Case("very_large_file", "dcgm_samples", "h1.prom", "".join(lines).encode(), 200_000)
    test_bad_input_is_loaded_or_quarantined_and_reconciled(tmp_path, case)


@pytest.mark.parametrize("table, pattern", [("dcgm_samples", "h[1].prom"), ("hosts", "hosts-?.csv")])
def test_file_names_that_look_like_glob_patterns_are_read_as_files(tmp_path, table, pattern):
    """DuckDB's readers take a name with `[`, `]`, `?` or `*` as a pattern: each file must still be read once."""
    landing = tmp_path / "landing"
    folder = landing / table / f"dt={DAY}"
    folder.mkdir(parents=True)
    if table == "dcgm_samples":
        (folder / "h1.prom").write_text(util(50))
        (folder / pattern).write_text(util(60) + util(70, labels=LABELS.replace('gpu="0"', 'gpu="1"')))
    else:
        host = "{},c,r,NVIDIA L4,8,inference,none,0.8,2025-03-01 00:00:00,\n"
        (folder / "hosts-a.csv").write_text(HOSTS_HEADER + host.format("h1"))
        (folder / pattern).write_text(HOSTS_HEADER + host.format("h2") + host.format("h3"))
    files = landed(sorted(folder.iterdir()), landing)
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        summary = replace_day(con, BY_TABLE[table], DAY, files)
        audit = con.execute("select source_file, rows_read from raw.load_audit order by 1").fetchall()
    assert summary["rows_read"] == summary["rows_loaded"] == 3
    assert {name.rsplit("/", 1)[1]: n for name, n in audit} == {
        pattern: 2,
        "h1.prom" if table == "dcgm_samples" else "hosts-a.csv": 1,
    }
