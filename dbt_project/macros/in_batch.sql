{#
  In a microbatch model: `column` lies in the day dbt is building (widened by `reach`, e.g. '1 hour', for a
  lookahead). Outside a batch (unit tests) every row qualifies.
#}
{% macro in_batch(column, reach='0 hours') -%}
    {%- if model.batch is defined and model.batch -%}
        {{ column }} >= '{{ model.batch.event_time_start }}'::timestamptz
        and {{ column }} < '{{ model.batch.event_time_end }}'::timestamptz + interval '{{ reach }}'
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}
