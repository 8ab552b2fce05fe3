{#- The categories a training run's GPU time splits into (int_training_intervals_classified). -#}
{% macro ett_categories() -%}
    {{ return(['productive', 'start_overhead', 'checkpoint', 'data_stall', 'publishing', 'lost_progress',
               'recovery', 'other']) }}
{%- endmacro %}
