"""GPU telemetry pulled from Prometheus' HTTP API: a day of the configured DCGM series, read as raw samples with
their own timestamps, in the canonical columnar shape, then loaded by the columnar loader (same checks, quarantine
and audit as a Parquet file).

A day is 24 range-vector instant queries, one per hour, each selecting every configured field at once:
`{__name__=~"DCGM_FI_DEV_GPU_UTIL|…"}[1h]` evaluated 1 ms before the hour's end, so it returns every sample of
[hour start, hour end) whatever the server's range-boundary rule (2.x closed, 3.x left-open); a sample is kept
in the hour it was measured in, so none is read twice. A range vector returns raw samples (no step, no lookback),
so the 11,000-points-per-series limit of `query_range` never applies. The hours are fetched in parallel, each
answer streamed to a file; DuckDB's JSON reader turns it into columns and pivots it to one row per GPU per
timestamp, one column per field, written as Parquet: no Python object per sample. The audit and the quarantine
name the query (`prometheus:<query>@<time>`) where a file would be named.

Nothing is loaded unless every query of the day succeeded: any error stops the pull before the writer runs."""

from __future__ import annotations

import hashlib
import json
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from .landing import LandedFile
from .parsers.base import sql_literal
from .parsers.parquet import LABELS, METRICS

# raw column <- candidate Prometheus labels, first present wins: the columnar form's labels, and for the host,
# the scrape target's `instance` (minus its port) as the last resort, where the exporter sets no hostname label
INSTANCE = "instance"
DEFAULT_LABELS: dict[str, tuple[str, ...]] = {
    column: names + ((INSTANCE,) if column == "hostname" else ())
    for column, names in LABELS.items()
    if column != "measured_at"
}
DEFAULT_METRICS: tuple[str, ...] = tuple(r.field for r in METRICS.values())
CHUNK = timedelta(hours=1)
# the part of a query's answer read: {"status", "data": {"resultType": "matrix", "result": [{"metric", "values"}]}};
# a sample is [seconds, "value"]: read as two doubles (DuckDB casts the quoted number), an order of magnitude faster
# than as text, unless the answer holds "+Inf"/"-Inf", which the JSON cast refuses: then as text
ANSWER = 'struct(resultType varchar, result struct(metric map(varchar, varchar), "values" {}[][])[])'


class PrometheusError(RuntimeError):
    """The server is unreachable or answered an error: one line saying which server, which query and what."""


@dataclass(frozen=True)
class PrometheusConfig:
    url: str
    token_env: str = "PROMETHEUS_TOKEN"  # the environment variable holding a bearer token, if any
    metrics: tuple[str, ...] = DEFAULT_METRICS
    labels: dict[str, tuple[str, ...]] = field(default_factory=lambda: dict(DEFAULT_LABELS))
    timeout_s: float = 60.0
    retries: int = 3  # connection errors, 429 and 5xx, with exponential back-off
    backoff_s: float = 0.5
    workers: int = 4  # hours fetched at once
    # gzip shrinks the JSON several-fold but costs the server more CPU than writing it (docs/performance.md):
    # off where the network is a LAN, on for a slow link
    gzip: bool = False

    def session(self) -> requests.Session:
        retry = Retry(
            total=self.retries,
            backoff_factor=self.backoff_s,
            status_forcelist=(429, 500, 502, 503, 504),
            allowed_methods=("GET", "POST"),
            raise_on_status=False,  # the last answer is returned and its error said in one line
        )
        session = requests.Session()
        session.mount("http://", HTTPAdapter(max_retries=retry, pool_maxsize=max(self.workers, 1)))
        session.mount("https://", HTTPAdapter(max_retries=retry, pool_maxsize=max(self.workers, 1)))
        session.headers["Accept-Encoding"] = "gzip" if self.gzip else "identity"
        token = os.getenv(self.token_env) if self.token_env else None
        if token:
            session.headers["Authorization"] = f"Bearer {token}"
        return session


def selector(metrics: tuple[str, ...]) -> str:
    return '{__name__=~"' + "|".join(metrics) + '"}'


def query_name(query: str, at: datetime) -> str:
    """What the audit and the quarantine call a query's answer (where a file would be named)."""
    return f"prometheus:{query}@{at.isoformat(timespec='milliseconds').replace('+00:00', 'Z')}"


def get(session: requests.Session, cfg: PrometheusConfig, path: str, params: dict, out: Path) -> int:
    """GET an API path, the answer streamed to `out`; its size. A transport failure or an error answer raises
    PrometheusError with the server, the query and the reason in one line."""
    url = cfg.url.rstrip("/") + path
    what = f"Prometheus {cfg.url} {path} {params.get('query', '')!r}"
    try:
        with session.get(url, params=params, timeout=cfg.timeout_s, stream=True) as answer:
            if answer.status_code != 200:
                raise PrometheusError(f"{what}: HTTP {answer.status_code}: {_error_text(answer)}")
            with out.open("wb") as fh:
                for block in answer.iter_content(1 << 20):
                    fh.write(block)
    except requests.exceptions.RetryError as error:  # retries exhausted on an error status
        raise PrometheusError(f"{what}: gave up after {cfg.retries} retries: {_root(error)}") from error
    except requests.exceptions.ConnectionError as error:
        raise PrometheusError(f"{what}: unreachable after {cfg.retries} retries: {_root(error)}") from error
    except requests.exceptions.Timeout as error:
        raise PrometheusError(f"{what}: no answer within {cfg.timeout_s:g} s: {_root(error)}") from error
    return out.stat().st_size


def _error_text(answer: requests.Response) -> str:
    """Prometheus' own error (`errorType: error`) when the body is its JSON, else the start of the body."""
    text = answer.text[:2000]
    try:
        body = json.loads(text)
        return f"{body.get('errorType', 'error')}: {body['error']}"
    except (ValueError, KeyError, TypeError, AttributeError):
        return " ".join(text.split())[:200] or answer.reason


def _root(error: BaseException) -> str:
    while error.__cause__ is not None or (error.args and isinstance(error.args[0], BaseException)):
        error = error.__cause__ or error.args[0]
    text = str(error)
    return "connection refused" if "Connection refused" in text else " ".join(text.split())[:200]


@dataclass(frozen=True)
class Pulled:
    files: list[LandedFile]  # one Parquet file per query, named by the query
    samples: int  # metric samples read (one value of one field)
    response_bytes: int


def pull_day(cfg: PrometheusConfig, day: str, scratch: Path) -> Pulled:
    """Every hour of the UTC day fetched and turned into a columnar Parquet file in `scratch`, or PrometheusError."""
    start = datetime.combine(date.fromisoformat(day), datetime.min.time(), tzinfo=UTC)
    hours = [start + i * CHUNK for i in range(24)]
    query = f"{selector(cfg.metrics)}[{int(CHUNK.total_seconds() // 3600)}h]"
    session = cfg.session()

    local = threading.local()

    def fetch(hour: datetime) -> tuple[LandedFile, int]:
        """One hour asked, its answer streamed to a file and turned into columns while other hours download."""
        at = hour + CHUNK - timedelta(milliseconds=1)
        path = scratch / f"prometheus-{hour:%H}.json"
        size = get(session, cfg, "/api/v1/query", {"query": query, "time": f"{at.timestamp():.3f}"}, path)
        if not hasattr(local, "con"):  # one in-memory DuckDB per worker, one thread each: the workers are the threads
            local.con = duckdb.connect(config={"threads": 1})
            opened.append(local.con)
        name, parquet = query_name(query, at), path.with_suffix(".parquet")
        samples = to_columnar(local.con, cfg, path, parquet, hour, hour + CHUNK, name)
        file = LandedFile(parquet, name, size, _sha256(name, path))
        path.unlink()
        return file, samples

    opened: list[duckdb.DuckDBPyConnection] = []
    with session, ThreadPoolExecutor(max(cfg.workers, 1)) as pool:
        futures = [pool.submit(fetch, hour) for hour in hours]
        try:
            answers = [f.result() for f in futures]  # the first failure raises, and nothing is loaded
        except BaseException:
            pool.shutdown(cancel_futures=True)  # the hours not asked yet are not asked
            raise
        finally:
            pool.shutdown(wait=True)
            for con in opened:
                con.close()
    files = [file for file, _ in answers]
    samples = sum(n for _, n in answers)
    return Pulled(files, samples, sum(f.size for f in files))


def to_columnar(con, cfg: PrometheusConfig, answer: Path, out: Path, start: datetime, end: datetime, what: str) -> int:
    """One query's JSON answer as columnar Parquet (the `gpu_samples` columns, under the names the columnar loader
    reads): one row per series' labels and timestamp in [start, end), one column per field; the samples read."""
    for value_type in ("double", "varchar"):
        doc = (
            f"read_json({sql_literal(str(answer))}, format = 'unstructured', maximum_object_size = 2147483647, "
            f"columns = {{status: 'varchar', data: {sql_literal(ANSWER.format(value_type))}}})"
        )
        try:  # the answer parsed once, into a table of one row
            con.execute(
                f"create or replace temp table answer as select status, data.resultType as kind, data.result "
                f"as result from {doc}"
            )
            status, kind, samples = con.execute(
                'select status, kind, coalesce(list_sum(list_transform(result, lambda r: len(r."values"))), 0) '
                "from answer"
            ).fetchall()[0]
            break
        except duckdb.InvalidInputException as error:
            if value_type == "double" and "Failed to cast value to numerical" in str(error):
                continue  # +Inf or -Inf: read the values as text
            raise _not_json(cfg, what, error) from error
        except (duckdb.Error, IndexError) as error:
            raise _not_json(cfg, what, error) from error
    if status != "success" or kind != "matrix":
        raise PrometheusError(f"Prometheus {cfg.url} {what}: answered status {status!r}, result {kind!r}, not a matrix")
    labels = []
    for column, names in cfg.labels.items():
        found = [
            f"nullif(regexp_replace(m[{sql_literal(n)}], ':[0-9]+$', ''), '')"
            if n == INSTANCE
            else f"nullif(m[{sql_literal(n)}], '')"
            for n in names
        ]
        labels.append(f"coalesce({', '.join(found)}) as {_column_name(column)}")
    fields = ", ".join(f'max(value) filter (where field = {i}) as "{f}"' for i, f in enumerate(cfg.metrics, 1))
    keys = ", ".join(_column_name(c) for c in cfg.labels)
    # the labels read once per series rather than once per sample, and the time compared and grouped as epoch
    # milliseconds: the pivot's cost is per sample
    con.execute(
        f"""copy (
            with series as (
                select {", ".join(labels)}, list_position($metrics, m['__name__']) as field, samples
                from (select s.metric as m, s."values" as samples from (select unnest(result) as s from answer))
            ),
            points as (
                select * exclude (samples, v), round(v[1]::double * 1000)::bigint as ms, v[2]::double as value
                from (select *, unnest(samples) as v from series)
            )
            select {keys}, make_timestamptz(ms * 1000) as "timestamp", {fields}
            from points
            where ms >= $start and ms < $end
            group by all
            order by {keys}, "timestamp"
        ) to {sql_literal(str(out))} (format parquet)""",
        {"metrics": list(cfg.metrics), "start": _epoch_ms(start), "end": _epoch_ms(end)},
    )
    con.execute("drop table answer")
    # the samples read: every value of the answer, also one measured outside the hour (counted, not loaded twice)
    return samples


def _epoch_ms(at: datetime) -> int:
    return round(at.timestamp() * 1000)


def _not_json(cfg: PrometheusConfig, what: str, error: BaseException) -> PrometheusError:
    first = str(error).splitlines()[0] if str(error) else type(error).__name__
    return PrometheusError(f"Prometheus {cfg.url} {what}: the answer is not Prometheus JSON ({first})")


def _column_name(raw: str) -> str:
    """The columnar file's name for a raw column (the first candidate the columnar loader reads)."""
    return f'"{LABELS[raw][0]}"' if raw in LABELS else f'"{raw}"'


def _sha256(name: str, path: Path) -> str:
    """The answer's fingerprint, with its query: two hours answered alike (both empty) are two answers, not a
    duplicate delivery."""
    digest = hashlib.sha256(name.encode())
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
