"""Which days of the incremental models are stale: the raw data of the day were loaded after those models last
built it. The load's own record (raw.load_audit, written in the load's transaction) is compared with Dagster's
record of the build, so a process killed right after a load commits, before any refresh, still leaves its days
stale, and the next run rebuilds them."""

import dagster as dg


def built_at(instance: dg.DagsterInstance, keys: list[dg.AssetKey]) -> dict[str, float]:
    """Per day, when every one of `keys` had last been materialized for it (the earliest of their latest)."""
    per_key = []
    for key in keys:
        ids = instance.get_latest_storage_id_by_partition(key, dg.DagsterEventType.ASSET_MATERIALIZATION)
        records = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=key, storage_ids=list(ids.values())), limit=max(len(ids), 1)
        ).records
        per_key.append({r.partition_key: r.timestamp for r in records if r.partition_key})
    days = set.intersection(*(set(at) for at in per_key)) if per_key else set()
    return {day: min(at[day] for at in per_key) for day in days}


def stale_days(loaded_at: dict[str, float], built: dict[str, float]) -> list[str]:
    """Days loaded after they were last built, or never built."""
    return sorted(day for day, at in loaded_at.items() if at > built.get(day, float("-inf")))


def loaded_at(con) -> dict[str, float]:
    """Per partition day, when its raw files were last loaded (any source)."""
    if not con.execute(
        "select count(*) from information_schema.tables where table_schema = 'raw' and table_name = 'load_audit'"
    ).fetchall()[0][0]:
        return {}
    rows = con.execute("select partition_date::varchar, epoch(max(loaded_at)) from raw.load_audit group by 1")
    return dict(rows.fetchall())
