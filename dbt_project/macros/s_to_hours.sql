{#- Exact (DECIMAL) seconds -> GPU-hours as DECIMAL(18, 9), for sums of the DECIMAL `_s` columns. -#}
{% macro s_to_hours(col) -%}
    (({{ col }}) / 3600)::decimal(18, 9)
{%- endmacro %}
