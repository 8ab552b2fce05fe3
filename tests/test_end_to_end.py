"""A tiny simulated fleet through the whole pipeline (Dagster ingest per day, dbt build, publish), checked
against the simulator's ground truth and the warehouse's own invariants."""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest
from conftest import own_target_path, run_dbt_parse

from pipelines.cli import summary
from pipelines.defs.automation.sensors import landing_files_sensor
from pipelines.defs.publish.exports import FOCUS_BILLING_PERIOD
from pipelines.ingest.landing import landed_partitions
from pipelines.ingest.registry import SOURCES
from pipelines.lib import settings
from pipelines.lib.publish import open_published


@pytest.fixture(scope="module", autouse=True)
def session_parse(project_env):
    """The module's refreshes run dbt several times: parsed again for the session's warehouse first, as the modules
    building warehouses of their own (make demo, make bench) leave dbt's parse for theirs."""
    run_dbt_parse()


def q(con, sql, params=None):
    return con.execute(sql, params or []).fetchall()


def test_published_file_is_read_only_and_holds_every_layer(published):
    tables = dict(q(published, "select table_schema || '.' || table_name, table_type from information_schema.tables"))
    for source in SOURCES:
        if source.source == "dataset":  # written by public-trace adapters only, never by a fleet
            continue
        assert q(published, f"select count(*) from raw.{source.table}")[0][0] > 0, source.table
    staging = [t for t in tables if t.startswith("staging.")]
    assert len(staging) >= 13
    # every staging relation has rows, but the quarantine (a clean load quarantines nothing) and the public-trace
    # relations (a simulated fleet is no trace)
    empty = {
        "staging.stg_warehouse__quarantine",
        "staging.stg_dataset__coverage",
        "staging.stg_dataset__adapter_rejects",
    }
    for name in [t for t in staging if t not in empty] + ["marts.fct_gpu_hourly"]:
        assert q(published, f"select count(*) from {name}")[0][0] > 0, name
    with pytest.raises(Exception, match="read-only"):
        published.execute("create table marts.scribble as select 1")


def test_one_row_per_gpu_per_hour_it_existed(published, tiny_warehouse):
    start = datetime.fromisoformat(tiny_warehouse["start"])
    end = start + timedelta(days=tiny_warehouse["days"])
    expected = {}
    for host, valid_from_s in tiny_warehouse["valid_from_s"].items():
        first = start + timedelta(seconds=valid_from_s)
        expected[host] = int((end - first).total_seconds() // 3600)
    rows = q(
        published, "select host_id, gpu_index, count(*), count(distinct hour_at) from marts.fct_gpu_hourly group by all"
    )
    assert len(rows) == tiny_warehouse["gpus"]
    for host, _, n, distinct in rows:
        assert n == distinct == expected[host], host
    late = [h for h, s in tiny_warehouse["valid_from_s"].items() if s > 0]
    assert late, "the simulator racks one host mid-window"


def test_telemetry_gpu_hours_match_capacity_less_outages(published, tiny_warehouse):
    capacity_s, observed_s = q(published, "select sum(existing_s), sum(observed_s) from marts.fct_gpu_hourly")[0]
    gpus_per_host = tiny_warehouse["gpus"] // tiny_warehouse["hosts"]
    down_s = sum((w["end_s"] - w["start_s"]) * gpus_per_host for w in tiny_warehouse["down_windows"])
    # each outage can be off by up to one sample interval per GPU (the sample before it covers a full gap)
    slack = 600 * gpus_per_host * (len(tiny_warehouse["down_windows"]) + 1)
    assert abs((capacity_s - down_s) - observed_s) <= slack
    assert down_s > 0


def test_states_and_ratios_are_consistent(published):
    bad = q(
        published,
        """
        select count(*) from marts.fct_gpu_hourly
        where not (observed_s <= existing_s + 1e-6 and allocated_s <= observed_s + 1e-6
                   and (gpu_util_ratio is null or gpu_util_ratio between 0 and 1))""",
    )
    assert bad == [(0,)]
    reserved = q(published, "select sum(allocated_s) from marts.fct_gpu_hourly where reservation <> 'none'")
    assert reserved == [(0,)]  # buffers hold no work
    sources = dict(q(published, "select allocation_source, count(*) from marts.fct_gpu_holder_hourly group by 1"))
    assert set(sources) == {"slurm", "kubernetes", "serving"}
    owners = q(published, "select count(*) from marts.fct_gpu_holder_hourly where team is null")
    assert owners == [(0,)]  # every job seen in telemetry is found in the scheduler records
    shared = q(published, "select count(*) from marts.fct_gpu_hourly where holders > 1")
    assert shared[0][0] > 0, "GPUs change hands within an hour in the tiny fleet"


def test_job_steps_do_not_double_count(published):
    lines, jobs = q(
        published,
        """
        select count(*) filter (where job_id not like '%.%'),
               count(distinct job_id) filter (where job_id not like '%.%')
        from raw.sacct_jobs""",
    )[0]
    steps = q(published, "select count(*) from raw.sacct_jobs where job_id like '%.%'")[0][0]
    staged = q(published, "select count(*) from staging.stg_scheduler__sacct_jobs")[0][0]
    assert steps > 0 and lines > jobs  # steps and repeated daily exports are both in raw
    assert staged == jobs


def test_audit_reconciles_every_file(published):
    audit = q(published, "select count(*), sum(rows_read), sum(rows_loaded + rows_quarantined) from raw.load_audit")
    files, read, accounted = audit[0]
    assert files > 0 and read == accounted
    loaded = sum(q(published, f"select count(*) from raw.{s.table}")[0][0] for s in SOURCES)
    assert loaded == q(published, "select sum(rows_loaded) from raw.load_audit")[0][0]


def test_summary_prints_the_published_headline(published):
    text = summary()
    row = q(published, "select gpus, days, allocated_ratio from marts.rpt_fleet_summary")[0]
    assert f"{row[0]} GPUs, {row[1]} days" in text
    assert f"allocated: {row[2]:.1%}" in text


def digest(con, table):
    return q(con, f"select count(*), sum(hash(t)) from {table} t")[0]


def test_landing_sensor_requests_new_and_changed_days(tiny_warehouse, instance):
    landing = Path(os.environ["LANDING_DIR"])
    days = landed_partitions(landing)
    ctx = dg.build_sensor_context(instance=instance)
    first = list(landing_files_sensor(ctx))
    assert sorted(r.partition_key for r in first) == days
    ctx = dg.build_sensor_context(instance=instance, cursor=ctx.cursor)
    assert list(landing_files_sensor(ctx)) == []
    late = landing / "hosts" / f"dt={days[0]}" / "hosts.csv"  # a re-delivered file for an earlier day
    late.write_text(late.read_text())
    os.utime(late, (late.stat().st_atime, late.stat().st_mtime + 10))
    again = list(landing_files_sensor(dg.build_sensor_context(instance=instance, cursor=ctx.cursor)))
    assert [r.partition_key for r in again] == [days[0]]


def test_capacity_states_find_the_reserved_buffers(published, tiny_warehouse):
    rows = q(
        published,
        """
        select host_id, sum(reserved_dr_s), sum(reserved_push_s), sum(allocated_active_s + allocated_idle_s),
               sum(existing_s) = sum(down_unplanned_s + down_planned_s + reserved_dr_s + reserved_push_s
                   + idle_hw_mismatch_s + idle_fragmented_s + idle_no_demand_s + allocated_active_s + allocated_idle_s)
        from marts.fct_gpu_capacity_hourly group by host_id""",
    )
    found = {}
    for host, dr, push, allocated, states_sum_to_capacity in rows:
        assert states_sum_to_capacity, host
        if dr > 0:
            found[host] = "dr_buffer"
        if push > 0:
            found[host] = "push_buffer"
        if host in tiny_warehouse["reserved_hosts"]:
            assert allocated == 0, host
    assert found == tiny_warehouse["reserved_hosts"]


def test_training_marts_count_every_failure_the_simulator_caused(published, tiny_warehouse):
    truth = tiny_warehouse["training_runs"]
    rows = q(
        published, "select run_id, attempts, failures_infra, failures_user, preemptions from marts.fct_training_jobs"
    )
    found = {run: {"attempts": a, "infra": i, "user": u, "preemptions": p} for run, a, i, u, p in rows}
    assert found == {run: {k: t[k] for k in ("attempts", "infra", "user", "preemptions")} for run, t in truth.items()}
    twice = [run for run, t in truth.items() if t["infra"] + t["user"] + t["preemptions"] >= 2]
    assert twice, "the tiny fleet should have a run that fails twice"
    recovered = q(
        published, "select count(*) from marts.fct_training_jobs where recovered_failures > 0 and time_to_recover_s > 0"
    )
    assert recovered[0][0] > 0


def test_a_run_that_shares_gpu_hours_gets_the_utilisation_of_its_own_samples(published, tiny_warehouse):
    """Per-run utilisation is taken over the seconds the run held each GPU: for runs whose GPU-hours also hold
    another job's or free samples, it matches the mean of the run's own samples the simulator wrote (each covers
    one sample interval; a sample before an outage or a maintenance boundary covers a little more or less)."""
    truth = {r: t for r, t in tiny_warehouse["training_runs"].items() if t["shares_gpu_hours"] and t["samples"]}
    found = dict(q(published, "select run_id, gpu_util_ratio from marts.fct_training_jobs"))
    assert len(truth) >= 20
    off = {
        run: (found.get(run), t["util_ratio"])
        for run, t in truth.items()
        if found.get(run) is None or abs(found[run] - t["util_ratio"]) > 0.01
    }
    assert off == {}


def test_low_traffic_report_names_the_barely_used_model(published, tiny_warehouse):
    reported = {m for (m,) in q(published, "select model_name from marts.rpt_low_traffic_models")}
    barely_used = {m for m, rps in tiny_warehouse["deployed_rps"].items() if rps < 0.001}
    busiest = max(tiny_warehouse["deployed_rps"], key=tiny_warehouse["deployed_rps"].get)
    assert barely_used and barely_used <= reported
    assert busiest not in reported


def test_cost_allocations_and_focus_sum_to_the_bill(published):
    bill = q(published, "select sum(existing_s / 3600 * usd_per_gpu_hour) from marts.fct_gpu_hourly")[0][0]
    as_line, shared = q(
        published, "select sum(cost_usd), sum(cost_shared_idle_usd) from marts.fct_cost_allocation_monthly"
    )[0]
    focus, held, idle = q(
        published, 'select sum("BilledCost"), sum("x_HeldCost"), sum("x_IdleCost") from marts.focus_gpu_charges'
    )[0]
    assert as_line == focus  # both exact: each hour at its rate, the idle or unused part the bill less the used
    # the FOCUS idle share-back carries the monthly mart's usage and idle lines, to the micro-dollar
    usage_line, idle_line = q(
        published,
        "select sum(cost_usd) filter (where cost_kind = 'usage'), sum(cost_usd) filter (where cost_kind = 'idle') "
        "from marts.fct_cost_allocation_monthly",
    )[0]
    assert (held, idle) == (usage_line, idle_line) and idle > 0
    assert abs(float(as_line) - bill) < 1e-6 and abs(float(shared) - bill) < 1e-4
    # the export: every charge once, in its billing period's folder, in both formats
    exported = Path(os.environ["WAREHOUSE_PATH"]).parent / "exports" / "focus_gpu_charges"
    by_period = "select {period}, count(*) from {source} group by all order by all"
    per_month = q(published, by_period.format(period=FOCUS_BILLING_PERIOD, source="marts.focus_gpu_charges"))
    for suffix in ("parquet", "csv"):
        files = f"read_{suffix}('{exported}/*/focus_gpu_charges.{suffix}', hive_partitioning = true)"
        period = "'billing_period=' || billing_period::varchar"
        assert q(published, by_period.format(period=period, source=files)) == per_month


def test_every_mart_and_column_is_documented(published):
    from pipelines.defs.transform.project import dbt_project

    manifest = json.loads(dbt_project().manifest_path.read_text())
    documented = {
        n["name"]: (n["description"], {c for c, v in n["columns"].items() if v.get("description")})
        for n in manifest["nodes"].values()
        if n["resource_type"] == "model" and n["schema"] == "marts"
    }
    tables = q(published, "select table_name from information_schema.tables where table_schema = 'marts'")
    assert len(tables) >= 20
    for (table,) in tables:
        description, columns = documented[table]
        assert description, table
        actual = {
            c
            for (c,) in q(
                published,
                "select column_name from information_schema.columns where table_schema = 'marts' and table_name = ?",
                [table],
            )
        }
        assert actual - columns == set(), table


def input_identities(landing: Path) -> tuple[set[str], set[str], set[str]]:
    """(users, groups, teams) as the landing files spell them: the HR export's user names and e-mail local parts,
    sacct's User and Group, the Kubernetes user label, the training events' user; teams from every source."""
    users, groups, teams = set(), set(), set()
    for export in landing.glob("users/dt=*/*.csv"):
        for line in export.read_text().splitlines()[1:]:
            user, team, email = line.split(",")
            users |= {user, email.split("@")[0]}
            teams.add(team)
    for export in landing.glob("sacct_jobs/dt=*/*.txt"):
        lines = export.read_text().splitlines()
        header = lines[0].split("|")
        for line in lines[1:]:
            row = dict(zip(header, line.split("|")))
            users.add(row["User"])
            groups.add(row["Group"])
            teams.add(row["Account"])
    for item in kubernetes_objects(landing, "k8s_jobs") + kubernetes_objects(landing, "k8s_pods"):
        labels = item["metadata"].get("labels", {})
        users.add(labels.get("fleet.example.com/user", ""))
        teams.add(labels.get("fleet.example.com/team", ""))
    for export in landing.glob("training_events/dt=*/*.jsonl"):
        for line in export.read_text().splitlines():
            event = json.loads(line)
            users.add(event.get("user", ""))
            teams.add(event.get("team", ""))
    return users - {""}, groups - {""}, teams - {""}


def kubernetes_objects(landing: Path, table: str) -> list[dict]:
    """The objects of a Kubernetes export: JSON lines (`*.jsonl`) or kubectl Lists (`*.json`, their items)."""
    lines = [json.loads(line) for f in landing.glob(f"{table}/dt=*/*.jsonl") for line in f.open()]
    return lines + [item for f in landing.glob(f"{table}/dt=*/*.json") for item in json.loads(f.read_text())["items"]]


def test_the_simulated_inputs_carry_names_where_the_issue_found_them(tiny_warehouse):
    """What the privacy scan below must find nothing of: a notebook Job jupyter-<user> in namespace user-<user>
    with pod jupyter-<user>-0, a Slurm job named jupyter-<User> (another case), groups that are user names."""
    landing = Path(os.environ["LANDING_DIR"])
    users, groups, _ = input_identities(landing)
    jobs = [item["metadata"] for item in kubernetes_objects(landing, "k8s_jobs")]
    notebooks = {(m["name"], m["namespace"]) for m in jobs if m["name"].startswith("jupyter-")}
    assert any(name == f"jupyter-{u}" and namespace == f"user-{u}" for u in users for name, namespace in notebooks)
    pods = "\n".join(f.read_text() for f in landing.glob("dcgm_samples/dt=*/*.prom"))
    assert any(f'pod="jupyter-{u}-0"' in pods for u in users)
    pod_names = {item["metadata"]["name"] for item in kubernetes_objects(landing, "k8s_pods")}
    assert any(f"jupyter-{u}-0" in pod_names for u in users)  # the pod of kubectl's export names the user too
    sacct = "\n".join(f.read_text() for f in landing.glob("sacct_jobs/dt=*/*.txt"))
    assert any(f"|jupyter-{u.capitalize()}|" in sacct for u in users)
    assert groups and groups <= users


def test_published_file_names_nobody(published):
    """No user or group name the inputs carry (HR export, sacct users and groups, Kubernetes user labels, training
    events), in any case, is in any text column of any table or view of the published file, raw schema included.
    A group named like a team is organisational, not a person (model identities)."""
    users, groups, teams = input_identities(Path(os.environ["LANDING_DIR"]))
    names = users | {g for g in groups if g.lower() not in {t.lower() for t in teams}}
    assert len(names) >= 10
    # the boundary dbt redacts at (model identifiers_redacted): not inside a longer run of letters and digits
    pattern = "(^|[^a-z0-9])(" + "|".join(re.escape(n) for n in sorted(names)) + ")([^a-z0-9]|$)"
    columns = q(
        published,
        "select table_schema, table_name, column_name from information_schema.columns "
        "where data_type in ('VARCHAR', 'JSON', 'VARCHAR[]') order by all",
    )
    assert {s for s, _, _ in columns} >= {"raw", "staging", "intermediate", "marts", "private"}
    leaks = []
    for schema, table, column in columns:
        hits = q(
            published,
            f'select count(*) from "{schema}"."{table}" where regexp_matches("{column}"::varchar, ?, \'i\')',
            [pattern],
        )
        if hits[0][0]:
            leaks.append(f"{schema}.{table}.{column}")
    assert leaks == []


def test_a_notebook_pod_is_its_jobs_allocation_after_both_are_redacted(published):
    """The pod jupyter-<user>-0 and its Job jupyter-<user> are redacted the same way, so the notebook's GPU-hours
    are still its Job's."""
    pods = q(
        published,
        "select distinct allocation_id from intermediate.int_gpu_hours_by_allocation_and_state "
        "where allocation_source = 'kubernetes' and allocation_id like 'jupyter-%'",
    )
    assert pods and all(re.fullmatch(r"jupyter-u_[0-9a-f]{12}", p) for (p,) in pods)
    jobs = q(published, "select allocation_id from intermediate.int_allocations_described")
    assert {p for (p,) in pods} <= {j for (j,) in jobs}


def test_a_day_materialized_again_after_a_killed_dbt_build_converges(tiny_warehouse, instance):
    """Materialize a day twice, with a dbt build SIGKILLed midway in between: readers never see the interrupted
    build, and the raw tables, the quarantine and every mart keep their row counts and checksums."""
    import time

    from pipelines.cli import materialize_all
    from pipelines.definitions import defs
    from pipelines.lib.privacy import export_key_to_env

    def snapshot():
        with published_now() as con:
            raw = {t: digest(con, t) for t in [f"raw.{s.table}" for s in SOURCES] + ["raw.quarantine"]}
        return raw | mart_digests()

    before = snapshot()
    day = landed_partitions(Path(os.environ["LANDING_DIR"]))[0]
    result = defs().resolve_job_def("ingest_day_job").execute_in_process(partition_key=day, instance=instance)
    assert result.success
    export_key_to_env()
    proc = subprocess.Popen(
        ["dbt", "build", "--profiles-dir", "."],
        cwd=settings.DBT_DIR,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(6)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert snapshot() == before  # readers never saw the interrupted build
    materialize_all(instance)
    assert snapshot() == before  # and the next run converges to the same raw tables and marts


def test_refresh_runs_the_marts_rules_as_dbt_tests(tiny_warehouse, instance):
    """The marts' rules are dbt tests, each an asset check of its model in the Dagster UI, evaluated in the
    refresh run that built the session's warehouse (its first); the publish follows only a build whose tests pass."""
    build = instance.get_runs(filters=dg.RunsFilter(job_name="refresh_warehouse_job"))[-1]
    records = instance.get_records_for_run(build.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION).records
    checks = [r.event_log_entry.dagster_event.event_specific_data for r in records]
    evaluations = {(e.asset_key.path[-1], e.check_name): e.passed for e in checks}
    checked = {model for model, _ in evaluations}
    assert {"fct_training_jobs", "fct_jobs", "fct_gpu_capacity_hourly", "fct_cost_allocation_monthly"} <= checked
    assert all(evaluations.values())
    built = instance.get_records_for_run(build.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION).records
    assert dg.AssetKey("published_warehouse") in {r.event_log_entry.dagster_event.asset_key for r in built}


def test_quarantine_summary_lists_every_loaded_table(published):
    from pipelines.cli import quarantine_summary

    text = quarantine_summary()
    for source in SOURCES:
        if source.source == "dataset":  # written by public-trace adapters only, never by a fleet
            continue
        assert source.table in text
    loaded = q(published, "select sum(rows_loaded) from marts.rpt_load_quality_daily")[0][0]
    assert loaded == q(published, "select sum(rows_loaded) from raw.load_audit")[0][0]


def test_hostile_deliveries_are_reported_and_change_nothing_else(published, tiny_warehouse):
    """The fixture's fleet came with a bad day's deliveries (conftest.land_hostile_deliveries): the warehouse
    published, each is named in the audit or quarantine and in the CLI's summary, and the fleet is the simulator's."""
    from conftest import HOSTILE

    from pipelines.cli import quarantine_summary

    assert HOSTILE["reasons"] <= {r for (r,) in q(published, "select distinct reason from raw.quarantine")}
    assert HOSTILE["statuses"] <= {s for (s,) in q(published, "select distinct status from raw.load_audit")}
    text = quarantine_summary()
    assert all(reason in text for reason in HOSTILE["reasons"])
    assert "1 file(s) unreadable" in text and "1 file(s) duplicate" in text and "file(s) empty" in text
    assert q(published, "select count(*) from raw.load_audit where source_file like '%2025-13-01%'") == [(0,)]
    assert q(published, "select gpus from marts.rpt_fleet_summary")[0][0] == tiny_warehouse["gpus"]


def test_dbt_unit_tests_pass_on_the_built_warehouse(tiny_warehouse):
    """A refresh skips dbt's unit tests (they check SQL, not data); CI runs every one of them here."""
    done = subprocess.run(
        ["dbt", "test", "--select", "test_type:unit", "--profiles-dir", "."],
        cwd=settings.DBT_DIR,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout[-3000:]
    passed = int(re.search(r"PASS=(\d+)", done.stdout).group(1))
    assert passed >= 30, done.stdout[-2000:]


MONEY_HOURS_SECONDS = re.compile(r"(_usd|_hours|_s|Cost|Quantity)$")
# model estimates (a shrunk MTBF, Young's interval) computed from exact sums: figures of a formula, not amounts
ESTIMATES = {"mtbf_hours", "observed_mtbf_hours", "prior_mtbf_hours", "mtbf_low_hours", "mtbf_high_hours"}
ESTIMATES |= {"optimal_interval_s", "optimal_interval_low_s", "optimal_interval_high_s"}


def exact_columns(con) -> dict[str, list[str]]:
    """Every mart's columns that are not floating point: keys, counts, and the DECIMAL money, hours, seconds."""
    rows = q(
        con,
        "select table_name, list(column_name order by ordinal_position) from information_schema.columns "
        "where table_schema = 'marts' and data_type not in ('DOUBLE', 'FLOAT') group by 1",
    )
    return dict(rows)


def test_money_hours_and_seconds_are_exact_and_the_same_on_a_rebuild(published, tiny_warehouse, tmp_path):
    """Money, GPU-hours and seconds are DECIMAL or integers in every mart, and a second build of the same raw data
    on four DuckDB threads (parallel sums add in another order than the fixture's single thread) gives every such
    column, and every key beside it, identical to the last digit."""

    from pipelines.lib.privacy import export_key_to_env

    floats = q(
        published,
        "select table_name || '.' || column_name from information_schema.columns "
        "where table_schema = 'marts' and data_type in ('DOUBLE', 'FLOAT') and column_name not like '%\\_per\\_%' "
        "escape '\\' and column_name not like 'share\\_%' escape '\\'",
    )
    inexact = [c for (c,) in floats if MONEY_HOURS_SECONDS.search(c) and c.split(".")[1] not in ESTIMATES]
    assert inexact == []

    rebuilt = tmp_path / "rebuilt.duckdb"
    shutil.copy(os.environ["WAREHOUSE_WORK_PATH"], rebuilt)
    start = datetime.fromisoformat(tiny_warehouse["start"]).date()
    window = [start - timedelta(days=1), start + timedelta(days=tiny_warehouse["days"] + 2)]
    export_key_to_env()
    done = subprocess.run(
        ["dbt", "build", "--full-refresh", "--exclude-resource-type", "unit_test", "--profiles-dir", "."]
        + own_target_path(tmp_path)
        + ["--event-time-start", window[0].isoformat(), "--event-time-end", window[1].isoformat()],
        cwd=settings.DBT_DIR,
        env=os.environ | {"WAREHOUSE_WORK_PATH": str(rebuilt), "DUCKDB_THREADS": "4"},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout[-3000:]
    with open_published(rebuilt) as again:
        columns = exact_columns(published)
        assert exact_columns(again) == columns
        for table, cols in columns.items():
            quoted = ", ".join(f'"{c}"' for c in cols)
            select = f"select {quoted} from marts.{table} order by all"
            assert q(again, select) == q(published, select), table


@contextmanager
def published_now():
    """The published file as a new reader sees it now: a copy, since DuckDB hands this process's open database
    (the module's `published` connection, on the file a publish has since replaced) to a connect of the same path."""
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / "published.duckdb"
        shutil.copy(os.environ["WAREHOUSE_PATH"], copy)
        with open_published(copy) as con:
            yield con


def mart_digests() -> dict:
    """Every published mart's checksum, but the load report's (it says when each file was loaded)."""
    with published_now() as con:
        tables = q(con, "select table_name from information_schema.tables where table_schema = 'marts'")
        return {t: digest(con, f"marts.{t}") for (t,) in tables if t != "rpt_load_quality_daily"}


def test_a_backfill_of_older_days_rebuilds_those_days_and_the_marts_a_scratch_build_gave(tiny_warehouse, instance):
    """The refresh launched for a range of days as one run (the tags a single-run backfill from the UI carries)
    rebuilds those days of the incremental models, from the working file's raw tables, whatever their rows had
    become, and every published mart is again what the build from scratch gave."""
    import duckdb

    from pipelines.definitions import defs
    from pipelines.defs.transform.assets import incremental_dbt_assets

    before = mart_digests()
    first = landed_partitions(Path(os.environ["LANDING_DIR"]))[0]
    with duckdb.connect(os.environ["WAREHOUSE_WORK_PATH"]) as con:  # the day is lost from the incremental models
        con.execute("delete from marts.fct_gpu_hourly where hour_at::date = ?", [first])
        con.execute(
            "delete from intermediate.int_gpu_hours_by_allocation_and_state where sample_day_at::date = ?", [first]
        )
    span = {"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": first}
    result = defs().resolve_job_def("refresh_warehouse_job").execute_in_process(instance=instance, tags=span)
    assert result.success
    incremental = set(incremental_dbt_assets().keys)
    rebuilt = {
        (e.asset_key, e.partition) for e in result.get_asset_materialization_events() if e.asset_key in incremental
    }
    assert rebuilt == {(key, first) for key in incremental}
    assert mart_digests() == before


def test_a_run_killed_right_after_a_load_commits_is_rebuilt_by_the_next_run(tiny_warehouse, instance):
    """A re-sent dcgm-exporter file for the first day, with GPU 0 of its host at 0 % utilisation, is loaded and
    committed; the process is SIGKILLed before Dagster records anything. The next run finds the files unchanged
    since their load, but the day stale (loaded after the models last built it): it rebuilds the day, and the marts
    show the new readings. Re-sending the original file converges back to the first build's marts."""
    import re as regex

    from pipelines.cli import materialize_all

    before = mart_digests()
    landing = Path(os.environ["LANDING_DIR"])
    first = landed_partitions(landing)[0]
    path = sorted((landing / "dcgm_samples" / f"dt={first}").glob("*.prom"))[0]
    host = path.stem
    original = path.read_text()
    idle = regex.sub(r'(?m)^(DCGM_FI_DEV_GPU_UTIL\{gpu="0",[^}]*\}) \S+', r"\1 0", original)
    assert idle != original

    def gpu0_util():
        with published_now() as con:
            return q(
                con,
                "select max(gpu_util_ratio) from marts.fct_gpu_hourly "
                "where host_id = ? and gpu_index = 0 and hour_at::date = ? and observed_s > 0",
                [host, first],
            )[0][0]

    assert gpu0_util() > 0
    load_then_die = (
        "import os, signal, duckdb\n"
        "from pathlib import Path\n"
        "from pipelines.ingest.registry import BY_TABLE\n"
        "from pipelines.ingest.writer import replace_day\n"
        "source = BY_TABLE['dcgm_samples']\n"
        "root = Path(os.environ['LANDING_DIR'])\n"
        "con = duckdb.connect(os.environ['WAREHOUSE_WORK_PATH'])\n"
        f"replace_day(con, source, '{first}', source.files(root, '{first}'))\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    try:
        path.write_text(idle)
        killed = subprocess.run([sys.executable, "-c", load_then_die], cwd=settings.ROOT)
        assert killed.returncode == -signal.SIGKILL
        materialize_all(instance, days=[first])
        assert gpu0_util() == 0
    finally:
        path.write_text(original)
        materialize_all(instance, days=[first])
    assert mart_digests() == before


def test_a_mig_host_holds_its_instances_as_shares_of_each_gpu(published, tiny_warehouse):
    truth = tiny_warehouse["mig"]
    host = truth["host"]
    # every GPU-hour of the partitioned host is observed in full, and its states sum to it
    gaps = published.execute(
        "select count(*), count(*) filter (where observed_s <> existing_s or down_unplanned_s > 0), "
        "max(abs(existing_s - (down_planned_s + reserved_dr_s + reserved_push_s + idle_hw_mismatch_s "
        "+ idle_fragmented_s + idle_no_demand_s + allocated_active_s + allocated_idle_s))) "
        "from marts.fct_gpu_capacity_hourly where host_id = ?",
        [host],
    ).fetchall()[0]
    hours = gaps[0] // 8
    assert gaps[0] == 8 * 48 and gaps[1:] == (0, 0)
    held = published.execute(
        "select allocation_id, sum(held_s) / 3600, sum(gpu_util_ratio * held_s) / sum(held_s) "
        "from marts.fct_gpu_holder_hourly where host_id = ? group by all",
        [host],
    ).fetchall()
    assert {a for a, _, _ in held} == set(truth["deployments"])
    for allocation, gpu_hours, util in held:
        d = truth["deployments"][allocation]
        # each replica holds its instance's slices of 7 of a GPU, the whole time
        assert gpu_hours == pytest.approx(d["replicas"] * d["slices"] / 7 * hours, abs=1e-6)
        assert util == pytest.approx(d["util"], abs=0.005)
    counter, power = published.execute(
        "select any_value(gpu_util_counter), avg(power_w) from marts.fct_gpu_hourly where host_id = ?", [host]
    ).fetchall()[0]
    assert counter == "DCGM_FI_PROF_GR_ENGINE_ACTIVE"  # MIG instances have no GPU_UTIL
    # power is the physical GPU's, reported on each instance's series: not summed over the instances
    assert power == pytest.approx(truth["power_w"], rel=0.01)
