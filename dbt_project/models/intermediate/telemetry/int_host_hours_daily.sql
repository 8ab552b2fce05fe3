-- UTC day x host: the GPU-hours fct_gpu_reliability_daily divides by, summed from fct_gpu_hourly (its own figures,
-- not a second definition) one UTC day per query (dbt microbatch on usage_date), so the reliability mart, rebuilt
-- whole each night with the failures, reads a row per host-day instead of every GPU-hour of the history.
{{ incremental_by(event_time='usage_date') }}

with gpu_hours as (
    select * from {{ ref('fct_gpu_hourly') }}
),

final as (
    select
        hour_at::date as usage_date,
        host_id,
        any_value(gpu_model) as gpu_model,
        any_value(cluster) as cluster,
        {{ s_to_hours('sum(existing_s)') }} as gpu_hours,
        {{ s_to_hours('sum(allocated_s)') }} as allocated_gpu_hours,
        count(*) filter (where xid_error is not null) as xid_gpu_hours,
        count(distinct gpu_index) filter (where xid_error is not null) as gpus_with_xid,
        list_sort(list_distinct(list(xid_error) filter (where xid_error is not null))) as xid_codes
    from gpu_hours
    group by all
)

select * from final
