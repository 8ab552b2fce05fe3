-- Cluster x GPU model over the whole window: idle GPU-hours by cause (the report's idle chart), intentional
-- (planned downtime, the two buffers) and unintended (unplanned downtime, the three free states), and held-idle
-- beside them. A cause this data cannot measure stays NULL (sum of NULLs), never 0.
with daily as (
    select * from {{ ref('fct_fleet_utilization_daily') }}
),

final as (
    select
        cluster,
        gpu_model,
        count(distinct usage_date) as days,
        sum(capacity_gpu_hours) as capacity_gpu_hours,
        sum(down_planned_gpu_hours) as down_planned_gpu_hours,
        sum(reserved_dr_gpu_hours) as reserved_dr_gpu_hours,
        sum(reserved_push_gpu_hours) as reserved_push_gpu_hours,
        sum(down_unplanned_gpu_hours) as down_unplanned_gpu_hours,
        sum(idle_hw_mismatch_gpu_hours) as idle_hw_mismatch_gpu_hours,
        sum(idle_fragmented_gpu_hours) as idle_fragmented_gpu_hours,
        sum(idle_no_demand_gpu_hours) as idle_no_demand_gpu_hours,
        sum(allocated_idle_gpu_hours) as allocated_idle_gpu_hours,
        sum(down_planned_gpu_hours) + sum(reserved_dr_gpu_hours) + sum(reserved_push_gpu_hours)
            as intentional_idle_gpu_hours,
        sum(down_unplanned_gpu_hours) + sum(idle_hw_mismatch_gpu_hours) + sum(idle_fragmented_gpu_hours)
            + sum(idle_no_demand_gpu_hours) as unintended_idle_gpu_hours,
        sum(unmeasured_gpu_hours) as unmeasured_gpu_hours
    from daily
    group by all
)

select * from final
