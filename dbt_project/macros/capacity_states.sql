{#- The capacity states, in the order the marts list them. Every GPU-second is in exactly one. -#}
{% macro capacity_states() -%}
    {{ return(['down_unplanned', 'down_planned', 'reserved_dr', 'reserved_push', 'idle_hw_mismatch',
               'idle_fragmented', 'idle_no_demand', 'allocated_active', 'allocated_idle']) }}
{%- endmacro %}
