{#
  The first UTC day an incremental telemetry model rebuilds, as a timestamptz literal.
  - var reprocess_from (YYYY-MM-DD): set by the Dagster refresh for a backfill or a late day;
  - otherwise the last day already built: its final samples cover time up to the next day's first sample, so
    that day is rebuilt with the new one. Older days are not read again: a day's run costs the same on day 300.
  `column` is the model's own day column (a date) or hour column (a timestamptz; its last hour may spill one hour
  into the next day, so the day is taken an hour earlier).
#}
{% macro reprocess_from(column, is_hour=false) -%}
    {%- if var('reprocess_from', none) -%}
        '{{ var("reprocess_from") }}'::date::timestamptz
    {%- elif execute -%}
        {%- set expr = "(max(" ~ column ~ ") - interval 1 hour)::date" if is_hour else "max(" ~ column ~ ")" -%}
        {%- set day = run_query("select coalesce(" ~ expr ~ ", '1900-01-01'::date)::varchar from " ~ this).columns[0].values()[0] -%}
        '{{ day }}'::date::timestamptz
    {%- else -%}
        '1900-01-01'::date::timestamptz
    {%- endif -%}
{%- endmacro %}
