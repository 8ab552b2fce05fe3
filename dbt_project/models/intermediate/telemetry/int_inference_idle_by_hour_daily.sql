-- UTC day x UTC hour of day x GPU model, inference pool: the seconds rpt_idle_inference_for_training averages,
-- summed from fct_gpu_capacity_hourly one UTC day per query (dbt microbatch on usage_date), so the report, rebuilt
-- whole each night, averages a row per day and hour instead of every inference GPU-hour of the history.
{{ incremental_by(event_time='usage_date') }}

with capacity as (
    select * from {{ ref('fct_gpu_capacity_hourly') }}
),

final as (
    select
        hour_at::date as usage_date,
        hour(hour_at) as hour_of_day,
        gpu_model,
        sum(idle_no_demand_s + idle_fragmented_s + idle_hw_mismatch_s) as free_s,
        sum(reserved_push_s) as reserved_push_s,
        sum(allocated_idle_s) as allocated_idle_s,
        sum(existing_s) as existing_s
    from capacity
    where pool = 'inference'
    group by all
)

select * from final
