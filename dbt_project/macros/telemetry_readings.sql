{#- The GPU readings that are averaged over covered time (int_gpu_hours_by_allocation_and_state keeps their
    time-weighted sums, int_gpu_samples_rolled_to_hour divides them). -#}
{% macro telemetry_readings() -%}
    {{ return(['gpu_util_ratio', 'sm_active_ratio', 'tensor_active_ratio', 'dram_active_ratio', 'fb_used_bytes',
               'power_w']) }}
{%- endmacro %}
