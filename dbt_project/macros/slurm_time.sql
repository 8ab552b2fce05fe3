{#- Slurm prints local times without a zone, and Unknown/None when there is none yet (running, pending). -#}
{% macro slurm_time(col) -%}
    timezone('{{ var("slurm_timezone") }}', try_strptime(nullif(nullif({{ col }}, 'Unknown'), 'None'), '%Y-%m-%dT%H:%M:%S'))
{%- endmacro %}
