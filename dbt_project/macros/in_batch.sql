{#
  In a microbatch model: `column` lies in the day dbt is building (widened by `reach`, e.g. '1 hour', for a
  lookahead). Outside a batch (unit tests) every row qualifies.
#}
{% macro in_batch(column, reach='0 hours') -%}
    {%- if model.batch is defined and model.batch -%}
        {{ column }} >= {{ batch_start() }}
        and {{ column }} < {{ batch_end() }} + interval '{{ reach }}'
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{# The bounds [start, end) of the batch being built, as timestamptz SQL; unbounded outside a batch. #}
{% macro batch_start() -%}
    {%- if model.batch is defined and model.batch -%}
        '{{ model.batch.event_time_start }}'::timestamptz
    {%- else -%}
        '-infinity'::timestamptz
    {%- endif -%}
{%- endmacro %}

{% macro batch_end() -%}
    {%- if model.batch is defined and model.batch -%}
        '{{ model.batch.event_time_end }}'::timestamptz
    {%- else -%}
        'infinity'::timestamptz
    {%- endif -%}
{%- endmacro %}
