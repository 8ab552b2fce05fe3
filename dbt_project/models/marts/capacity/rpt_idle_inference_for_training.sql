-- UTC hour of day x GPU model: inference GPU-hours nobody used, averaged over the window's days - the diurnal
-- troughs preemptible training could fill. free = the idle_* states (up, unreserved, not held); the push
-- buffer and deployments running below the utilisation threshold are shown beside it, not in it.
with by_day as (
    select * from {{ ref('int_inference_idle_by_hour_daily') }}
),

final as (
    select
        hour_of_day,
        gpu_model,
        count(distinct usage_date) as days,
        {{ s_to_hours('sum(free_s)') }} as free_gpu_hours,
        sum(free_s) / 3600 / count(distinct usage_date) as free_gpu_hours_per_day,
        sum(reserved_push_s) / 3600 / count(distinct usage_date) as push_buffer_gpu_hours_per_day,
        sum(allocated_idle_s) / 3600 / count(distinct usage_date) as allocated_idle_gpu_hours_per_day,
        -- what preemptible training could take: free GPUs, plus replicas idling in the trough if serving scales in
        sum(free_s + allocated_idle_s) / 3600 / count(distinct usage_date) as harvestable_gpu_hours_per_day,
        sum(existing_s) / 3600 / count(distinct usage_date) as capacity_gpu_hours_per_day
    from by_day
    group by all
)

select * from final
