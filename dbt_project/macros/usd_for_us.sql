{#- Money for GPU time: integer microseconds x $ per GPU-hour -> exact dollars (DECIMAL(18, 6)). The product is
    summed as a DECIMAL where it is aggregated, so a rerun gives the same cents whatever order threads add in. -#}
{% macro usd_for_us(us, usd_per_gpu_hour) -%}
    (({{ us }}) * ({{ usd_per_gpu_hour }})::decimal(18, 6) / 3600000000)::decimal(18, 6)
{%- endmacro %}
