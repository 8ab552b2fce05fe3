{#- A reading averaged over the held seconds of the int_gpu_usage_owned rows being aggregated (time-weighted,
    over the seconds that had the reading): the one definition of "utilisation while held". -#}
{% macro held_mean(reading, where=none) -%}
    {%- set only = ' filter (where ' ~ where ~ ')' if where else '' -%}
    sum({{ reading }}_x_us){{ only }} / nullif(sum({{ reading }}_us){{ only }}, 0)
{%- endmacro %}
