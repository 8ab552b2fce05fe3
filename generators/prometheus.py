"""A local Prometheus holding a simulated fleet's telemetry, as a fleet team's Prometheus holds what it scraped
from dcgm-exporter: the columnar samples (`gpu_samples` Parquet) written as OpenMetrics, backfilled into a TSDB with
`promtool tsdb create-blocks-from openmetrics`, and served by `prometheus` on 127.0.0.1 (Debian's package, 2.42).
The demo (`make demo TELEMETRY=prometheus`), the tests and the bench use it; the pipeline never imports it."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipelines.ingest.parsers.parquet import LABELS, METRICS

# the labels dcgm-exporter attaches, in the columns of the columnar form (the first name LABELS reads)
LABEL_COLUMNS = [names[0] for column, names in LABELS.items() if column != "measured_at"]
FIELDS = [r.field for r in METRICS.values()]


def parquet_to_openmetrics(parquet: list[Path], out: Path) -> int:
    """Write the samples of columnar Parquet files as OpenMetrics (one family after another, each series in time
    order, timestamps in seconds, `# EOF`); the number of samples written. DuckDB formats the lines: a double is
    printed in its shortest exact form, so the values read back are the values written."""
    con = duckdb.connect()
    present = {
        r[0]
        for r in con.execute(
            "describe select * from read_parquet(?, union_by_name = true)", [list(map(str, parquet))]
        ).fetchall()
    }
    labels = [c for c in LABEL_COLUMNS if c in present]
    fields = [f for f in FIELDS if f in present]
    # label values escaped as the exposition format wants (backslash, quote, newline); an empty label is left out
    pairs = ", ".join(
        f"""case when nullif("{c}"::varchar, '') is not null then '{c}="' || replace(replace(replace("{c}"::varchar,
        '\\', '\\\\'), '"', '\\"'), chr(10), '\\n') || '"' end"""
        for c in labels
    )
    unpivoted = " union all ".join(
        f"""select '{f}' as family, concat_ws(',', {pairs}) as labels, "{f}"::double as value, "timestamp" as sampled_at
        from samples where "{f}" is not null"""
        for f in fields
    )
    con.register("samples", con.read_parquet(list(map(str, parquet)), union_by_name=True))
    body = out.with_suffix(".body")
    con.execute(
        f"""copy (
            select line from (
                select family, 0 as part, '' as labels, null::timestamptz as sampled_at,
                    '# TYPE ' || family || ' gauge' as line
                from (select distinct family from ({unpivoted}))
                union all
                select family, 1, labels, sampled_at, family || '{{' || labels || '}} ' || value::varchar || ' '
                    || (epoch_ms(sampled_at) / 1000.0)::decimal(18, 3)::varchar
                from ({unpivoted})
            ) order by family, part, labels, sampled_at
        ) to '{body}' (format csv, header false, quote '', delimiter '\\x01')"""
    )
    n = con.execute(f"select count(*) from ({unpivoted})").fetchall()[0][0]
    with out.open("wb") as dst:
        with body.open("rb") as src:
            shutil.copyfileobj(src, dst)
        dst.write(b"# EOF\n")
    body.unlink()
    return n


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LocalPrometheus:
    """A `prometheus` process on 127.0.0.1 over a TSDB backfilled from columnar samples; stop() ends it."""

    url: str
    process: subprocess.Popen
    storage: Path
    samples: int

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> LocalPrometheus:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def start_local_prometheus(parquet: list[Path], storage: Path, log: Path | None = None) -> LocalPrometheus:
    """Backfill `storage` from the Parquet samples and serve it on a free port (no scrape targets). The retention
    is long: the simulated days lie in the past, and the default 15 days would delete them at start-up."""
    for tool in ("prometheus", "promtool"):
        if not shutil.which(tool):
            raise RuntimeError(f"`{tool}` is not on PATH: apt-get install prometheus (make prometheus does it)")
    storage.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        metrics = Path(tmp) / "fleet.om"
        samples = parquet_to_openmetrics(parquet, metrics)
        subprocess.run(
            ["promtool", "tsdb", "create-blocks-from", "openmetrics", str(metrics), str(storage)],
            check=True,
            capture_output=True,
        )
    port = free_port()
    out = log.open("ab") if log else subprocess.DEVNULL
    config = storage / "prometheus.yml"
    config.write_text("global:\n  scrape_interval: 1m\nscrape_configs: []\n")
    process = subprocess.Popen(
        [
            "prometheus",
            f"--config.file={config}",
            f"--storage.tsdb.path={storage}",
            "--storage.tsdb.retention.time=100y",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=out,
        stderr=out,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"{url}/-/ready", timeout=1) as answer:
                if answer.status == 200:
                    break
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"prometheus did not start on {url} (exit {process.poll()})")
        time.sleep(0.1)
    return LocalPrometheus(url, process, storage, samples)
