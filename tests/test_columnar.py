"""The canonical columnar telemetry loader: DuckDB reads, checks and replaces a day of Parquet; every row is
loaded or quarantined with a reason, and the counts reconcile."""

from datetime import UTC, datetime

import duckdb
import polars as pl
import pytest

from pipelines.ingest.landing import landed
from pipelines.ingest.registry import BY_TABLE
from pipelines.ingest.writer import replace_day

COLUMNAR = BY_TABLE["gpu_samples"]

DAY = "2025-03-03"
T0 = datetime(2025, 3, 3, 10, tzinfo=UTC)


def sample(**overrides) -> dict:
    row = {
        "timestamp": T0,
        "Hostname": "h1",
        "gpu": 0,
        "UUID": "GPU-1",
        "modelName": "NVIDIA H100 80GB HBM3",
        "hpc_job": "42",
        "DCGM_FI_DEV_GPU_UTIL": 97.0,
        "DCGM_FI_PROF_SM_ACTIVE": 0.8,
        "DCGM_FI_DEV_FB_USED": 70000.0,
        "DCGM_FI_DEV_POWER_USAGE": 650.0,
        "DCGM_FI_DEV_GPU_TEMP": 70.0,
    }
    return row | overrides


def land(landing, rows, name="part.parquet", schema=None):
    folder = landing / "gpu_samples" / f"dt={DAY}"
    folder.mkdir(parents=True, exist_ok=True)
    pl.DataFrame(rows, schema=schema, infer_schema_length=None).write_parquet(folder / name)
    return folder / name


@pytest.fixture
def con(tmp_path):
    with duckdb.connect(str(tmp_path / "w.duckdb")) as c:
        c.execute("set TimeZone = 'UTC'")
        yield c


def test_good_and_bad_rows_are_loaded_or_quarantined_and_reconcile(tmp_path, con):
    rows = [
        sample(),
        sample(gpu=1, DCGM_FI_DEV_GPU_UTIL=140.0),  # impossible utilisation
        sample(gpu=2, DCGM_FI_DEV_GPU_TEMP=9223372036854775794.0),  # DCGM blank sentinel
        sample(gpu=3, Hostname=None),
        sample(gpu=4, timestamp=datetime(2025, 3, 9, tzinfo=UTC)),  # six days off its partition
        sample(gpu=5, DCGM_FI_DEV_POWER_USAGE=float("nan")),
        sample(gpu=6, DCGM_FI_DEV_FB_USED=90000.0),  # more than an H100 80GB has
    ]
    path = land(tmp_path, rows)
    summary = replace_day(con, COLUMNAR, DAY, landed([path], tmp_path))
    assert summary == {"files": 1, "rows_read": 7, "rows_loaded": 1, "rows_quarantined": 6}
    reasons = dict(con.execute("select source_line, reason from raw.quarantine order by 1").fetchall())
    assert reasons == {
        2: "out_of_range",
        3: "dcgm_blank_sentinel",
        4: "missing_hostname",
        5: "timestamp_outside_partition",
        6: "non_finite_value",
        7: "out_of_range",
    }
    # the rejected row is kept whole, for a human to read
    raw_text = con.execute("select raw_text from raw.quarantine where source_line = 2").fetchall()[0][0]
    assert '"gpu_util_pct":140.0' in raw_text
    audit = con.execute("select rows_read, rows_loaded, rows_quarantined, status from raw.load_audit").fetchall()
    assert audit == [(7, 1, 6, "partial")]
    loaded = con.execute("select hostname, gpu, gpu_util_pct, fb_used_mib, source_file from raw.gpu_samples").fetchall()
    assert loaded == [("h1", 0, 97.0, 70000.0, "gpu_samples/dt=2025-03-03/part.parquet")]


def test_newer_label_names_epoch_ms_and_missing_fields_load(tmp_path, con):
    """A newer exporter writes `hostname`; a Prometheus export gives epoch milliseconds; absent fields are NULL."""
    ms = int(T0.timestamp() * 1000)
    path = land(tmp_path, [{"timestamp": ms, "hostname": "h2", "gpu": 0, "DCGM_FI_DEV_GPU_UTIL": 5.0}])
    replace_day(con, COLUMNAR, DAY, landed([path], tmp_path))
    row = con.execute("select measured_at, hostname, gpu_util_pct, sm_active from raw.gpu_samples").fetchall()
    assert row == [(T0, "h2", 5.0, None)]


def test_reloading_the_day_replaces_it(tmp_path, con):
    path = land(tmp_path, [sample(), sample(gpu=1)])
    replace_day(con, COLUMNAR, DAY, landed([path], tmp_path))
    path = land(tmp_path, [sample(gpu=2)])  # the day re-sent with different content
    replace_day(con, COLUMNAR, DAY, landed([path], tmp_path))
    assert con.execute("select gpu from raw.gpu_samples").fetchall() == [(2,)]
    assert con.execute("select count(*) from raw.load_audit").fetchall() == [(1,)]


def test_a_day_without_files_still_has_its_table(tmp_path, con):
    """A fleet that sends no columnar telemetry still gets an (empty) table for dbt to read."""
    summary = replace_day(con, COLUMNAR, DAY, landed([], tmp_path))
    assert summary["rows_read"] == 0
    assert con.execute("select count(*) from raw.gpu_samples").fetchall() == [(0,)]


def test_file_names_that_look_like_glob_patterns_are_read_as_files(tmp_path, con):
    """`h[1].parquet` as a pattern matches `h1.parquet`: read as a pattern, one file would count twice, itself never."""
    plain = land(tmp_path, [sample(gpu=0)], name="h1.parquet")
    bracketed = land(tmp_path, [sample(gpu=1), sample(gpu=2)], name="h[1].parquet")
    summary = replace_day(con, COLUMNAR, DAY, landed([plain, bracketed], tmp_path))
    assert summary == {"files": 2, "rows_read": 3, "rows_loaded": 3, "rows_quarantined": 0}
    by_file = con.execute("select source_file, list(gpu order by gpu) from raw.gpu_samples group by 1 order by 1")
    assert by_file.fetchall() == [
        ("gpu_samples/dt=2025-03-03/h1.parquet", [0]),
        ("gpu_samples/dt=2025-03-03/h[1].parquet", [1, 2]),
    ]


def test_each_gpu_models_own_limits_judge_its_rows_and_an_unlisted_or_unnamed_model_only_the_general_ones(
    tmp_path, con
):
    """The limits are looked up once per model name in the day's files (rules.model_limits_sql), not per row."""
    rows = [
        sample(DCGM_FI_DEV_POWER_USAGE=820.0),  # an H100 (700 W): within a short excursion
        sample(gpu=1, DCGM_FI_DEV_POWER_USAGE=1100.0),  # an H100: beyond it
        sample(gpu=2, modelName="NVIDIA L4", DCGM_FI_DEV_POWER_USAGE=90.0, DCGM_FI_DEV_FB_USED=20000.0),
        sample(gpu=3, modelName="NVIDIA L4", DCGM_FI_DEV_POWER_USAGE=60.0, DCGM_FI_DEV_FB_USED=30000.0),  # > 24 GiB
        sample(gpu=4, modelName="Z9", DCGM_FI_DEV_POWER_USAGE=1100.0),  # not listed: the 2 kW bound only
        sample(gpu=5, modelName=None, DCGM_FI_DEV_POWER_USAGE=1100.0),  # no model name: the same
        # an L4 has no MIG instances
        sample(
            gpu=6, modelName="NVIDIA L4", DCGM_FI_DEV_POWER_USAGE=60.0, DCGM_FI_DEV_FB_USED=9.0, GPU_I_PROFILE="1g.6gb"
        ),
    ]
    path = land(tmp_path, rows)
    summary = replace_day(con, COLUMNAR, DAY, landed([path], tmp_path))
    assert summary == {"files": 1, "rows_read": 7, "rows_loaded": 4, "rows_quarantined": 3}
    reasons = con.execute("select source_line, reason from raw.quarantine order by 1").fetchall()
    assert reasons == [(2, "out_of_range"), (4, "out_of_range"), (7, "unknown_mig_profile")]
    assert con.execute("select gpu from raw.gpu_samples order by 1").fetchall() == [(0,), (2,), (4,), (5,)]


def test_mig_instances_4x_counters_and_a_blank_xid_load_and_an_unknown_profile_does_not(tmp_path, con):
    mig = {"modelName": "NVIDIA A100-SXM4-80GB", "DCGM_FI_DEV_GPU_UTIL": None, "DCGM_FI_PROF_SM_ACTIVE": None}
    mig |= {"DCGM_FI_DEV_POWER_USAGE": 180.0}
    rows = [
        sample(
            **mig,
            GPU_I_ID="9",
            GPU_I_PROFILE="1g.10gb",
            DCGM_FI_PROF_GR_ENGINE_ACTIVE=0.4,
            DCGM_FI_DEV_FB_USED=7000.0,
            DCGM_FI_DEV_FB_RESERVED=400.0,
            DCGM_FI_PROF_PCIE_RX_BYTES=9.0e8,  # bytes per second, not a ratio
            DCGM_FI_DEV_XID_ERRORS=9223372036854775792.0,  # the 4.x exporter's blank: no XID
        ),
        sample(**mig, gpu=1, GPU_I_ID="2", GPU_I_PROFILE="5g.50gb", DCGM_FI_PROF_GR_ENGINE_ACTIVE=0.1),
    ]
    path = land(tmp_path, rows)
    summary = replace_day(con, COLUMNAR, DAY, landed([path], tmp_path))
    assert summary == {"files": 1, "rows_read": 2, "rows_loaded": 1, "rows_quarantined": 1}
    assert con.execute("select source_line, reason from raw.quarantine").fetchall() == [(2, "unknown_mig_profile")]
    loaded = con.execute(
        "select gpu_instance_id, gpu_instance_profile, gr_engine_active, fb_reserved_mib, pcie_rx_bytes_per_s, xid "
        "from raw.gpu_samples"
    ).fetchall()
    assert loaded == [("9", "1g.10gb", 0.4, 400.0, 9.0e8, None)]
