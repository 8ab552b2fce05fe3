"""GPU telemetry pulled from a real Prometheus (Debian's `prometheus` 2.42; `make prometheus` installs it): a tiny
simulated fleet's columnar samples backfilled into a TSDB with promtool, served on 127.0.0.1, pulled by the
warehouse. The marts built from the pull equal, row for row, the marts built from the same samples as files. The
failures a user meets (server down, HTTP 400 "exceeded maximum resolution", 5xx, not JSON) are one clear line
each and load nothing; a bearer token is sent."""

from __future__ import annotations

import http.server
import io
import os
import re
import shutil
import threading
import urllib.request
from contextlib import contextmanager, redirect_stdout
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from conftest import build_partial_warehouse
from dagster_duckdb import DuckDBResource

from generators.prometheus import free_port, start_local_prometheus
from pipelines.defs.ingest.prometheus import PrometheusApi, build_prometheus_asset
from pipelines.ingest.parsers.parquet import METRICS
from pipelines.ingest.prometheus import DEFAULT_LABELS, PrometheusConfig, PrometheusError, get, pull_day
from pipelines.ingest.registry import PROMETHEUS
from pipelines.ingest.writer import replace_day
from pipelines.lib import settings
from pipelines.lib.publish import publish_warehouse

FLEET = ["--days", "1", "--sample-interval-s", "600", "--seed", "11", "--jobs-per-day", "60"]
DAY = "2025-03-03"
MARTS = ["fct_gpu_capacity_hourly", "fct_gpu_holder_hourly", "fct_gpu_hourly", "fct_fleet_utilization_daily"]


@contextmanager
def warehouse(root: Path, **env: str):
    """The environment of a warehouse of its own (landing, working file, published file, Dagster instance)."""
    home = root / "dagster_home"
    home.mkdir(parents=True)
    (home / "dagster.yaml").write_text((settings.ROOT / "dagster.yaml").read_text())
    values = {
        "LANDING_DIR": str(root / "landing"),
        "WAREHOUSE_WORK_PATH": str(root / "work" / "warehouse.duckdb"),
        "WAREHOUSE_PATH": str(root / "published" / "warehouse.duckdb"),
        "DAGSTER_HOME": str(home),
        "DUCKDB_THREADS": "1",
    } | env
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("PROMETHEUS_URL", raising=False)
        for k, v in values.items():
            mp.setenv(k, v)
        yield root / "published" / "warehouse.duckdb"


@pytest.fixture(scope="module")
def warehouses(tmp_path_factory):
    """The same simulated day built twice: its columnar samples as files, loaded by the production loaders and the
    compared marts built by dbt (the reference needs no Dagster run), then published; and `make demo
    TELEMETRY=prometheus`'s way (the same samples backfilled into a local Prometheus, served, pulled). One
    pseudonym key for both: the marts name notebook jobs by it."""
    from generators.demo import main as demo
    from generators.sim.__main__ import main as simulate

    root = tmp_path_factory.mktemp("prometheus")
    with warehouse(root / "files", WAREHOUSE_PSEUDONYM_KEY="test") as files:
        simulate(["--out", os.environ["LANDING_DIR"], *FLEET])
        work = Path(os.environ["WAREHOUSE_WORK_PATH"])
        work.parent.mkdir(parents=True)
        build_partial_warehouse(work, Path(os.environ["LANDING_DIR"]), [DAY], " ".join(f"+{m}" for m in MARTS), True)
        publish_warehouse(work, files, scrub=True)
    with (
        warehouse(root / "pulled", WAREHOUSE_PSEUDONYM_KEY="test") as pulled,
        redirect_stdout(io.StringIO()) as out,
    ):
        demo(["--telemetry", "prometheus", *FLEET])
    return files, pulled, root, out.getvalue()


@pytest.fixture(scope="module")
def server(warehouses):
    """A real Prometheus serving the files' columnar samples, for the tests of the pull alone."""
    root = warehouses[2]
    parquet = sorted((root / "files" / "landing" / "gpu_samples").rglob("*.parquet"))
    with start_local_prometheus(parquet, root / "tsdb") as prom:
        yield root, prom


def rows(path: Path, sql: str) -> list:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.mark.parametrize("mart", MARTS)
def test_marts_from_prometheus_equal_marts_from_files(warehouses, mart):
    files, pulled, _, _ = warehouses
    expected = rows(files, f"select * from marts.{mart} order by all")
    got = rows(pulled, f"select * from marts.{mart} order by all")
    assert len(expected) > (0 if mart.endswith("_daily") else 100)
    assert got == expected


def test_pulled_samples_are_the_landed_samples_and_the_audit_names_each_query(warehouses):
    files, pulled, _, printed = warehouses
    assert re.search(
        r"pulled   24 Prometheus queries over 1 day\(s\) from http://127.0.0.1:\d+: [\d,]+ GPU samples", printed
    )
    assert "fleet:" in printed  # the demo's summary followed
    columns = "* exclude (source_file, source_line, partition_date)"
    landed = rows(files, f"select {columns} from raw.gpu_samples order by all")
    assert len(landed) == rows(files, "select count(*) from raw.gpu_samples")[0][0] > 1000
    assert rows(pulled, f"select {columns} from raw.prometheus_samples order by all") == landed
    assert rows(pulled, "select count(*) from raw.gpu_samples") == [(0,)]
    audit = rows(
        pulled,
        "select source_file, rows_read, rows_loaded, rows_quarantined, status from raw.load_audit "
        "where table_name = 'prometheus_samples' order by source_file",
    )
    assert len(audit) == 24
    assert audit[0][0].startswith('prometheus:{__name__=~"DCGM_FI_DEV_GPU_UTIL|')
    assert audit[0][0].endswith('"}[1h]@2025-03-03T00:59:59.999Z')
    assert audit[-1][0].endswith("@2025-03-03T23:59:59.999Z")
    assert all(read == loaded + bad and status == "loaded" for _, read, loaded, bad, status in audit)
    assert sum(a[1] for a in audit) == len(landed)
    # the source rows carry the query they came from, as file rows carry their file
    assert rows(pulled, "select count(*) from raw.prometheus_samples where source_file not like 'prometheus:%'") == [
        (0,)
    ]


def test_the_asset_exists_only_where_a_prometheus_is_configured(monkeypatch):
    from pipelines.definitions import defs

    monkeypatch.delenv("PROMETHEUS_URL", raising=False)
    key = dg.AssetKey(PROMETHEUS.key)  # also a dbt source: declared, and loaded only where configured
    assert not defs().resolve_asset_graph().get(key).is_executable
    monkeypatch.setenv("PROMETHEUS_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("PROMETHEUS_RETRIES", "7")
    definitions = defs()
    assert (
        dg.AssetKey(PROMETHEUS.key) in definitions.resolve_job_def("ingest_day_job").asset_layer.executable_asset_keys
    )
    assert definitions.resources["prometheus"].retries == 7


def test_a_rerun_replaces_the_day_and_counts_reconcile(server, tmp_path):
    _, prom = server
    cfg = PrometheusConfig(prom.url)
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    for _ in range(2):
        with_scratch = tmp_path / "scratch"
        with_scratch.mkdir()
        pulled = pull_day(cfg, DAY, with_scratch)
        summary = replace_day(con, PROMETHEUS, DAY, pulled.files)
        shutil.rmtree(with_scratch)
    assert summary["rows_read"] == summary["rows_loaded"] + summary["rows_quarantined"] > 1000
    assert con.execute("select count(*) from raw.prometheus_samples").fetchall()[0][0] == summary["rows_loaded"]
    assert con.execute("select count(*) from raw.load_audit").fetchall()[0][0] == 24
    # one metric sample per field value: the pivot lost none
    values = " + ".join(f"count({c})" for c in METRICS)
    assert pulled.samples == con.execute(f"select {values} from raw.prometheus_samples").fetchall()[0][0]


def test_the_real_server_refuses_too_many_points_and_the_error_is_one_line(server, tmp_path):
    _, prom = server
    cfg = PrometheusConfig(prom.url)
    params = {"query": "DCGM_FI_DEV_GPU_UTIL", "start": "2025-03-03T00:00:00Z", "end": "2025-03-04T00:00:00Z"}
    with cfg.session() as session, pytest.raises(PrometheusError) as error:
        get(session, cfg, "/api/v1/query_range", params | {"step": "1"}, tmp_path / "answer.json")
    message = str(error.value)
    assert "\n" not in message
    assert "HTTP 400" in message and "bad_data: exceeded maximum resolution of 11,000 points per timeseries" in message
    assert prom.url in message


class Stub(http.server.BaseHTTPRequestHandler):
    """Answers the server will not give on demand: each test sets `answer` (status, body) and reads `seen`."""

    answer: tuple[int, bytes] = (200, b"")
    seen: list[dict] = []
    upstream: str | None = None  # relay every request but those whose query string holds `fail_at`
    fail_at: str | None = None

    def do_GET(self):  # noqa: N802 (http.server's name)
        cls = type(self)
        cls.seen.append(dict(self.headers))
        status, body = cls.answer
        if cls.upstream and cls.fail_at not in self.path:
            with urllib.request.urlopen(cls.upstream + self.path) as relayed:
                status, body = relayed.status, relayed.read()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def stub():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Stub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Stub.seen, Stub.upstream, Stub.fail_at = [], None, None
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


ANSWERS = Path(__file__).parent / "fixtures" / "prometheus"  # real answers of Prometheus 2.42 (see README there)
EXCEEDED = (ANSWERS / "query_range_exceeded_400.json").read_bytes()


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ((400, EXCEEDED), "HTTP 400: bad_data: exceeded maximum resolution of 11,000 points per timeseries"),
        ((503, b"upstream unavailable"), "HTTP 503: upstream unavailable"),
        ((200, b"<html>not json</html>"), "the answer is not Prometheus JSON"),
        ((200, b'{"status":"success","data":{"resultType":"vector","result":[]}}'), "not a matrix"),
    ],
)
def test_an_error_answer_is_one_clear_line(stub, tmp_path, answer, expected):
    Stub.answer = answer
    with pytest.raises(PrometheusError, match=expected) as error:
        pull_day(PrometheusConfig(stub, retries=2, backoff_s=0), DAY, tmp_path)
    assert "\n" not in str(error.value) and stub in str(error.value)
    if answer[0] == 503:  # retried: 24 hours, each asked 1 + 2 times until the first gives up
        assert len(Stub.seen) >= 3


def test_a_real_answer_becomes_one_row_per_gpu_and_timestamp(stub, tmp_path):
    """Prometheus' own answer (two series of one GPU, 6 samples each, hour 00): one row per timestamp, both fields."""
    Stub.answer = (200, (ANSWERS / "range_vector_answer.json").read_bytes())
    pulled = pull_day(PrometheusConfig(stub, retries=0), DAY, tmp_path)
    con = duckdb.connect()
    replace_day(con, PROMETHEUS, DAY, pulled.files)
    got = con.execute(
        "select hostname, gpu, gpu_uuid, model_name, hpc_job, measured_at::varchar, gpu_util_pct, power_w, fb_used_mib "
        "from raw.prometheus_samples order by measured_at"
    ).fetchall()
    assert len(got) == 6 and pulled.samples == 24 * 12  # every hour answered alike; only hour 00 keeps them
    assert got[0] == (
        "slurm-a100-001",
        0,
        "GPU-04bc1aa5-7b48-4fbd-ac28-29fcc94d1632",
        "NVIDIA A100-SXM4-80GB",
        "410001",
        "2025-03-03 00:00:00.738+00",
        6.0,
        77.203,
        None,
    )
    assert got[-1][5:8] == ("2025-03-03 00:50:00.308+00", 90.0, 343.904)


def test_a_bearer_token_is_sent_from_the_configured_variable(stub, tmp_path, monkeypatch):
    Stub.answer = (200, b'{"status":"success","data":{"resultType":"matrix","result":[]}}')
    monkeypatch.setenv("FLEET_PROM_TOKEN", "s3cret")
    pulled = pull_day(PrometheusConfig(stub, token_env="FLEET_PROM_TOKEN"), DAY, tmp_path)
    assert len(Stub.seen) == 24 and {h.get("Authorization") for h in Stub.seen} == {"Bearer s3cret"}
    assert pulled.samples == 0 and len(pulled.files) == 24
    Stub.seen = []
    pull_day(PrometheusConfig(stub, token_env="UNSET_PROM_TOKEN"), DAY, tmp_path)
    assert {h.get("Authorization") for h in Stub.seen} == {None}


def test_server_down_fails_the_asset_in_one_line_and_keeps_the_loaded_day(server, tmp_path):
    _, prom = server
    database = str(tmp_path / "w.duckdb")
    asset = build_prometheus_asset()
    duck = DuckDBResource(database=database)
    context = dg.build_asset_context(partition_key=DAY)
    asset(context, duckdb=duck, prometheus=PrometheusApi(url=prom.url))
    with duckdb.connect(database) as con:
        before = con.execute("select count(*) from raw.prometheus_samples").fetchall()[0][0]
    assert before > 1000
    down = f"http://127.0.0.1:{free_port()}"  # nothing listens there: connection refused
    with pytest.raises(PrometheusError, match="unreachable after 1 retries: connection refused") as error:
        asset(dg.build_asset_context(partition_key=DAY), duckdb=duck, prometheus=PrometheusApi(url=down, retries=1))
    assert "\n" not in str(error.value) and down in str(error.value)
    with duckdb.connect(database) as con:
        assert con.execute("select count(*) from raw.prometheus_samples").fetchall()[0][0] == before
        assert con.execute("select count(*) from raw.load_audit").fetchall()[0][0] == 24


def test_a_failed_hour_loads_nothing_of_the_day(stub, server, tmp_path):
    """23 hours answered and one refused: the day is not replaced (the pull fails before the writer runs)."""
    _, prom = server
    database = str(tmp_path / "w.duckdb")
    duck = DuckDBResource(database=database)
    asset = build_prometheus_asset()
    asset(dg.build_asset_context(partition_key=DAY), duckdb=duck, prometheus=PrometheusApi(url=prom.url))
    with duckdb.connect(database) as con:
        before = con.execute("select * from raw.prometheus_samples order by all").fetchall()
    Stub.answer = (
        500,
        b'{"status":"error","errorType":"internal","error":"query processing would load too many samples"}',
    )
    Stub.upstream, Stub.fail_at = prom.url, "time=1741010399.999"  # 13:59:59.999, the end of hour 13
    with pytest.raises(PrometheusError, match="HTTP 500: internal: query processing would load too many samples"):
        asset(
            dg.build_asset_context(partition_key=DAY),
            duckdb=duck,
            prometheus=PrometheusApi(url=stub, retries=0, backoff_s=0),
        )
    assert len(Stub.seen) >= 14  # hours 0-12 were answered (relayed from the real server), then 13 failed
    with duckdb.connect(database) as con:
        assert con.execute("select * from raw.prometheus_samples order by all").fetchall() == before


def test_environment_configures_the_pull(monkeypatch):
    from pipelines.lib import settings

    monkeypatch.setenv("PROMETHEUS_METRICS", "DCGM_FI_DEV_GPU_UTIL, DCGM_FI_DEV_POWER_USAGE")
    monkeypatch.setenv("PROMETHEUS_LABELS", '{"hostname": ["node", "instance"]}')
    monkeypatch.setenv("PROMETHEUS_TIMEOUT_S", "5")
    options = settings.prometheus_options()
    assert options == {
        "metrics": ["DCGM_FI_DEV_GPU_UTIL", "DCGM_FI_DEV_POWER_USAGE"],
        "labels": {"hostname": ["node", "instance"]},
        "timeout_s": 5.0,
    }
    cfg = PrometheusApi(url="http://x", **options).config()
    assert cfg.metrics == ("DCGM_FI_DEV_GPU_UTIL", "DCGM_FI_DEV_POWER_USAGE")
    assert cfg.labels["hostname"] == ("node", "instance")
    assert cfg.labels["gpu"] == ("gpu",) and set(cfg.labels) == set(DEFAULT_LABELS)  # the others keep their defaults


def test_the_host_falls_back_to_the_scrape_instance_without_its_port(stub, tmp_path):
    series = (
        b'{"metric":{"__name__":"DCGM_FI_DEV_GPU_UTIL","instance":"gpu-node-7:9400","gpu":"3","job":"dcgm"},'
        b'"values":[[1740996000.5,"41"],[1740996060,"42"]]}'
    )
    Stub.answer = (200, b'{"status":"success","data":{"resultType":"matrix","result":[' + series + b"]}}")
    pulled = pull_day(PrometheusConfig(stub), DAY, tmp_path)
    con = duckdb.connect()
    summary = replace_day(con, PROMETHEUS, DAY, pulled.files)
    got = con.execute(
        "select hostname, gpu, gpu_util_pct, measured_at::varchar, source_file from raw.prometheus_samples"
    ).fetchall()
    # the stub answers every hour the same: only the hour the samples lie in keeps them (10:00 UTC)
    assert [g[:4] for g in got] == [
        ("gpu-node-7", 3, 41.0, "2025-03-03 10:00:00.5+00"),
        ("gpu-node-7", 3, 42.0, "2025-03-03 10:01:00+00"),
    ]
    assert {g[4] for g in got} == {pulled.files[10].name}
    assert summary["rows_loaded"] == 2 and pulled.samples == 24 * 2
