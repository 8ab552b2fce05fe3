"""Every command the README shows runs as written, at a small scale, in folders of its own: the README is what a
new user types first. A command added to the README without a way to run it here fails the first test."""

import os
import re
import shlex
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import uv_executable

from pipelines.lib.settings import ROOT

README = (ROOT / "README.md").read_text()
SMALL_FLEET = "--sample-interval-s 900 --jobs-per-day 30"  # appended to the simulator's arguments: a smaller fleet


def readme_commands() -> set[str]:
    """The shell commands of the README: lines of its bash blocks, and inline code that starts with make or uv."""
    blocks = re.findall(r"```bash\n(.*?)```", README, re.S)
    lines = {line.split("#")[0].strip() for block in blocks for line in block.splitlines()}
    inline = {" ".join(c.split()) for c in re.findall(r"`((?:make|uv run) [^`]+)`", README)}
    return {c for c in lines | inline if c}


# each README command -> the command run here (None: not run, and why)
AS_RUN = {
    'make demo SIM_ARGS="--days 2 --seed 3"': f'make demo SIM_ARGS="--days 2 --seed 3 {SMALL_FLEET}"',
    "make demo": "the same target and steps as the SIM_ARGS example above, which runs it on a smaller fleet",
    "make sql": "echo 'select hosts from marts.rpt_fleet_summary;' | make sql",
    'uv run duckdb -readonly data/warehouse.duckdb "select * from marts.rpt_fleet_summary"': (
        'uv run duckdb -readonly {published} "select * from marts.rpt_fleet_summary"'
    ),
    "uv run python -m generators.sim --help": "uv run python -m generators.sim --help",
    "uv run python -m pipelines.cli materialize": "uv run python -m pipelines.cli materialize",
    "uv run python -m pipelines.cli quarantine": "uv run python -m pipelines.cli quarantine",
    "make dev": "make dev",  # a server: started, asked for its status, stopped
    "make demo DATASET=<name>": "run by tests/test_datasets.py's fixture, for azure-llm-2023",
    "make bench": "run by tests/test_bench.py's fixture, on the smoke fleet",
    "make bench GPUS=1000 DAYS=7": "the same target as make bench, on the smoke fleet in tests/test_bench.py",
    "PROMETHEUS_URL=http://prometheus.monitoring:9090 uv run python -m pipelines.cli materialize": (
        "run by tests/test_prometheus.py's fixture: the demo's materialize, PROMETHEUS_URL set to a local Prometheus"
    ),
    "make demo TELEMETRY=prometheus": (
        "run by tests/test_prometheus.py's fixture: generators.demo --telemetry prometheus, on a 1-day fleet"
    ),
    "make test": None,  # the suite that runs this test
    # they need a cluster; the files they write are what tests/test_kubectl.py loads (tests/fixtures/kubernetes/)
    "kubectl get pods -A -o json > data/landing/k8s_pods/dt=2025-03-03/gpu-prod.json": None,
    "kubectl get jobs -A -o json > data/landing/k8s_jobs/dt=2025-03-03/gpu-prod.json": None,
    "kubectl get nodes -o json > data/landing/k8s_nodes/dt=2025-03-03/gpu-prod.json": None,
}


def test_every_readme_command_has_a_way_to_run_it_here():
    assert readme_commands() == set(AS_RUN)


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    root = tmp_path_factory.mktemp("readme")
    values = {
        "LANDING_DIR": root / "landing",
        "WAREHOUSE_WORK_PATH": root / "build" / "warehouse.duckdb",
        "WAREHOUSE_PATH": root / "warehouse.duckdb",
        "DATASETS_DIR": root / "datasets",
        "DAGSTER_HOME": root / "dagster_home",
    }
    return root, os.environ | {k: str(v) for k, v in values.items()}


def run(command: str, env: dict, timeout: int = 600) -> str:
    root = Path(env["WAREHOUSE_PATH"]).parent
    command = command.format(published=env["WAREHOUSE_PATH"], root=root)
    if command.startswith("uv "):  # the uv `make` installed, wherever it is
        command = shlex.quote(uv_executable()) + command[2:]
    if command.startswith("make ") or "| make " in command:
        command += f" DAGSTER_HOME={env['DAGSTER_HOME']} WAREHOUSE_PATH={env['WAREHOUSE_PATH']}"
    done = subprocess.run(command, shell=True, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{command}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    return done.stdout


def test_the_demo_then_the_analysts_commands(env):
    root, variables = env
    demo = run(AS_RUN['make demo SIM_ARGS="--days 2 --seed 3"'], variables)
    assert "fleet:" in demo and "2 days" in demo
    assert run(AS_RUN["make sql"], variables).count("│") > 0
    assert "hosts" in run(
        AS_RUN['uv run duckdb -readonly data/warehouse.duckdb "select * from marts.rpt_fleet_summary"'], variables
    )
    assert "--days" in run(AS_RUN["uv run python -m generators.sim --help"], variables)
    assert "ingest" in run(AS_RUN["uv run python -m pipelines.cli materialize"], variables)
    assert "sacct_jobs" in run(AS_RUN["uv run python -m pipelines.cli quarantine"], variables)
    # the Python example, its last expression printed (as the REPL it is written for would)
    *body, last = re.search(r"```python\n(.*?)```", README, re.S).group(1).strip().splitlines()
    snippet = "\n".join([*body, f"print({last.split('#')[0].strip()})"])
    snippet = snippet.replace('"data/warehouse.duckdb"', repr(variables["WAREHOUSE_PATH"]))
    assert "training" in run(f"uv run python -c {shlex.quote(snippet)}", variables)


def test_the_dagster_ui_starts(env):
    root, variables = env
    command = f"make dev DAGSTER_HOME={variables['DAGSTER_HOME']}"
    server = subprocess.Popen(
        command,
        shell=True,
        cwd=ROOT,
        env=variables,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.time() + 120
        while True:
            assert server.poll() is None, server.stdout.read().decode()[-2000:]
            try:
                with urllib.request.urlopen("http://127.0.0.1:3000/server_info", timeout=2) as answer:
                    assert answer.status == 200 and b"dagster" in answer.read()
                break
            except OSError:
                assert time.time() < deadline, "the Dagster UI did not answer within 2 minutes"
                time.sleep(1)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:  # a shell that started it may pass on SIGTERM ignored: stop it for good
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=60)
