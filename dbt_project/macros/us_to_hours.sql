{#- Integer microseconds -> GPU-hours as DECIMAL(18, 9) (to 3.6 µs): sums of them are exact and the same on
    every rerun. -#}
{% macro us_to_hours(col) -%}
    (({{ col }}) / 3600000000)::decimal(18, 9)
{%- endmacro %}
