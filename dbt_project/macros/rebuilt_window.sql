{#-
  The days the running refresh rebuilds, as the refresh recorded them before dbt ran (meta.rebuilt_window,
  pipelines/lib/changes.py): a test of a model rebuilt by day reads only those rows, so the nightly tests cost a
  day, not the history; the rows outside were tested when they were built. Read when the test runs (not from
  --vars, whose every new value makes dbt parse the whole project again). With no window recorded (a dbt run by
  hand, a warehouse built before the window was kept) every row is tested.
-#}
{% macro rebuilt_window() -%}
    {%- if not execute -%}{{ return(none) }}{%- endif -%}
    {%- set found = run_query(
        "select count(*) from information_schema.tables"
        ~ " where table_schema = 'meta' and table_name = 'rebuilt_window'"
    ) -%}
    {%- if found.columns[0].values()[0] == 0 -%}{{ return(none) }}{%- endif -%}
    {%- set window = run_query("select range_start::varchar, range_end::varchar from meta.rebuilt_window") -%}
    {{ return(window.rows[0] if window.rows | length else none) }}
{%- endmacro %}

{#- `column` lies in the rebuilt window, widened to whole months for a model built by month; true without one. -#}
{% macro in_rebuilt_window(column, batch_size='day') -%}
    {%- set window = rebuilt_window() -%}
    {%- if window is none -%}
        true
    {%- else -%}
        {{ column }} >= date_trunc('{{ batch_size }}', '{{ window[0] }}'::timestamptz)
        and {{ column }} < date_trunc('{{ batch_size }}', '{{ window[1] }}'::timestamptz - interval 1 microsecond)
            + interval '1 {{ batch_size }}'
    {%- endif -%}
{%- endmacro %}

{#-
  dbt's subquery for a generic test's model, narrowed to the rebuilt window when the model is rebuilt by day: a
  microbatch model, or a view over one (both name their event_time). The test's own `where` still applies.
-#}
{% macro duckdb__get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- set tested = graph.nodes.get(model.attached_node) if model.attached_node else none -%}
    {%- if tested and tested.config.event_time
        and (tested.config.incremental_strategy == 'microbatch' or tested.config.materialized == 'view') -%}
        {%- set window = in_rebuilt_window(tested.config.event_time, tested.config.batch_size or 'day') -%}
        {%- set where = '(' ~ where ~ ') and ' ~ window if where else window -%}
    {%- endif -%}
    {%- if where -%}
        (select * from {{ relation }} where {{ where }}) dbt_subquery
    {%- else -%}
        {{ relation }}
    {%- endif -%}
{%- endmacro %}
