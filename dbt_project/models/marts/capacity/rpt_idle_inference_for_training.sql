-- UTC hour of day x GPU model: inference GPU-hours nobody used, averaged over the window's days - the diurnal
-- troughs preemptible training could fill. free = the idle_* states (up, unreserved, not held); the push
-- buffer and deployments running below the utilisation threshold are shown beside it, not in it.
with capacity as (
    select * from {{ ref('fct_gpu_capacity_hourly') }}
),

final as (
    select
        hour(hour_at) as hour_of_day,
        gpu_model,
        count(distinct hour_at::date) as days,
        {{ s_to_hours('sum(idle_no_demand_s + idle_fragmented_s + idle_hw_mismatch_s)') }} as free_gpu_hours,
        sum(idle_no_demand_s + idle_fragmented_s + idle_hw_mismatch_s) / 3600 / count(distinct hour_at::date)
            as free_gpu_hours_per_day,
        sum(reserved_push_s) / 3600 / count(distinct hour_at::date) as push_buffer_gpu_hours_per_day,
        sum(allocated_idle_s) / 3600 / count(distinct hour_at::date) as allocated_idle_gpu_hours_per_day,
        -- what preemptible training could take: free GPUs, plus replicas idling in the trough if serving scales in
        sum(idle_no_demand_s + idle_fragmented_s + idle_hw_mismatch_s + allocated_idle_s) / 3600
            / count(distinct hour_at::date) as harvestable_gpu_hours_per_day,
        sum(existing_s) / 3600 / count(distinct hour_at::date) as capacity_gpu_hours_per_day
    from capacity
    where pool = 'inference'
    group by all
)

select * from final
