{#- A reading averaged over the held seconds of the int_gpu_usage_owned rows being aggregated (time-weighted,
    over the seconds that had the reading): the one definition of "utilisation while held". -#}
{% macro held_mean(reading) -%}
    sum({{ reading }}_x_us) / nullif(sum({{ reading }}_us), 0)
{%- endmacro %}
