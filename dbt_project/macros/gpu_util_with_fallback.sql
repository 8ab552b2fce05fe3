{#-
  A CTE `utilised` over `relation`: gpu_util_ratio is DCGM_FI_DEV_GPU_UTIL (as a ratio, column `gpu_util`), else
  DCGM_FI_PROF_GR_ENGINE_ACTIVE (gr_engine_active_ratio): dcgm-exporter 4.x's default counters and every MIG
  instance (whose GPU_UTIL is not supported) have only the second. Both are the share of time the GPU's
  graphics/compute engine was busy; gpu_util_counter names the one each sample's value came from.
-#}
{% macro gpu_util_with_fallback(relation, gpu_util) -%}
utilised as (
    select
        * exclude ({{ gpu_util }}),
        coalesce({{ gpu_util }}, gr_engine_active_ratio) as gpu_util_ratio,
        case
            when {{ gpu_util }} is not null then 'DCGM_FI_DEV_GPU_UTIL'
            when gr_engine_active_ratio is not null then 'DCGM_FI_PROF_GR_ENGINE_ACTIVE'
        end as gpu_util_counter
    from {{ relation }}
)
{%- endmacro %}
