{#- A dollar amount as DECIMAL(18, 6): for money derived from exact inputs (a share of an exact sum), so that the
    column sums exactly and reruns agree to the micro-dollar. -#}
{% macro to_usd(expr) -%}
    ({{ expr }})::decimal(18, 6)
{%- endmacro %}
