{#-
  The config every incremental model shares: dbt microbatch, one batch per UTC day (or month, for a monthly mart:
  a month's batch reads that month of its inputs and is rebuilt whole when any of its days is), on the days the
  run names (Dagster's partitions, see pipelines/defs/transform/assets.py), from var microbatch_begin_day.
  Batches run one after another (concurrent_batches=false: DuckDB has one writer). full_refresh=false: a run of a
  few days must never recreate the table with only those days; a backfill of every day rebuilds it.
  on_schema_change='append_new_columns': a column a new version adds reaches a warehouse built before it (NULL on
  the days built before, filled as each day is rebuilt) instead of failing the models that read it.
  The model names only what is its own: the column its rows are dated by (event_time), its batch size, and any
  other config (e.g. lookback) as keyword arguments.
-#}
{% macro incremental_by(event_time, batch_size='day') -%}
    {{ config(
        materialized='incremental', incremental_strategy='microbatch', event_time=event_time, batch_size=batch_size,
        begin=var('microbatch_begin_day'), concurrent_batches=false, full_refresh=false,
        on_schema_change='append_new_columns', **kwargs
    ) }}
{%- endmacro %}
