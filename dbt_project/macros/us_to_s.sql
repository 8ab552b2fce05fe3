{#- Integer microseconds -> exact seconds (DECIMAL(18,6)), so that state columns add up exactly. -#}
{% macro us_to_s(col) -%}
    (({{ col }}) / 1000000)::decimal(18, 6)
{%- endmacro %}
