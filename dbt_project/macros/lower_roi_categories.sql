{#- Lower-ROI capacity: used, but returning little. -#}
{% macro lower_roi_categories() -%}
    {{ return(['start_overhead', 'checkpoint', 'data_stall', 'publishing', 'lost_progress', 'recovery',
               'low_traffic_serving']) }}
{%- endmacro %}
