-- One row: the fleet at a glance over the whole window - the headline `make demo` prints.
with capacity as (
    select * from {{ ref('fct_gpu_capacity_hourly') }}
),

gpu_hours as (
    select * from {{ ref('fct_gpu_hourly') }}
),

held as (
    select * from {{ ref('int_gpu_usage_daily') }}
),

waterfall as (
    select * from {{ ref('rpt_capacity_waterfall_monthly') }}
),

ett as (
    select * from {{ ref('fct_ett_daily') }}
),

jobs as (
    select * from {{ ref('fct_jobs') }}
),

training_runs as (
    select * from {{ ref('fct_training_jobs') }}
),

recoveries as (
    select * from {{ ref('int_training_recoveries') }}
),

serving as (
    select * from {{ ref('fct_model_serving_daily') }}
),

low_traffic as (
    select * from {{ ref('rpt_low_traffic_models') }}
),

costs as (
    select * from {{ ref('fct_cost_allocation_monthly') }}
),

coverage as (
    select * from {{ ref('int_coverage') }}
),

hosts as (
    select * from {{ ref('stg_inventory__hosts') }}
),

inventory as (
    -- the fleet as the inventory lists it (each host at its newest period), whether telemetry measures it or not
    select count(*) as hosts, sum(gpu_count) as gpus
    from (select host_id, arg_max(gpu_count, valid_from) as gpu_count from hosts group by host_id)
),

job_window as (
    -- where no telemetry gives the window, the jobs do: from the first submission to the last end
    select
        date_trunc('hour', min(submitted_at)) as first_hour,
        date_trunc('hour', max(coalesce(ended_at, submitted_at))) + interval 1 hour as end_hour
    from jobs
    where scheduler <> 'serving'
),

fleet as (
    select
        min(hour_at) as capacity_start,
        max(hour_at) + interval 1 hour as capacity_end,
        {{ s_to_hours('sum(existing_s)') }} as capacity_gpu_hours,
        {{ s_to_hours('sum(allocated_active_s + allocated_idle_s)') }} as allocated_gpu_hours,
        {{ s_to_hours('sum(down_planned_s + reserved_dr_s + reserved_push_s)') }} as intentional_idle_gpu_hours,
        {{ s_to_hours('sum(down_unplanned_s + idle_hw_mismatch_s + idle_fragmented_s + idle_no_demand_s)') }}
            as unintended_idle_gpu_hours,
        {{ s_to_hours('sum(unmeasured_s)') }} as unmeasured_gpu_hours
    from capacity
),

held_activity as (
    select {{ held_mean('gpu_util_ratio') }} as allocated_gpu_util_ratio from held
),

activity as (
    select
        sum(energy_wh) / 1e6 as energy_mwh
    from gpu_hours
),

chain as (
    select
        sum(lower_roi_gpu_hours) as lower_roi_gpu_hours,
        sum(higher_roi_gpu_hours) as higher_roi_gpu_hours,
        sum(models_trained) as models_trained,
        sum(models_deployed) as models_deployed
    from waterfall
),

final as (
    select
        inventory.*,
        coalesce(fleet.capacity_start, job_window.first_hour) as window_start,
        coalesce(fleet.capacity_end, job_window.end_hour) as window_end,
        fleet.* exclude (capacity_start, capacity_end),
        activity.*,
        held_activity.*,
        chain.*,
        date_diff('day', window_start, window_end) as days,
        -- shares of capacity: only on data that covers the whole fleet (a sampled trace leaves them NULL)
        case when coverage.fleet_covered then fleet.allocated_gpu_hours / nullif(fleet.capacity_gpu_hours, 0) end
            as allocated_ratio,
        case when coverage.fleet_covered then fleet.intentional_idle_gpu_hours / nullif(fleet.capacity_gpu_hours, 0)
        end as intentional_idle_ratio,
        fleet.unintended_idle_gpu_hours / nullif(fleet.capacity_gpu_hours, 0) as unintended_idle_ratio,
        case when coverage.fleet_covered then chain.lower_roi_gpu_hours / nullif(fleet.capacity_gpu_hours, 0) end
            as lower_roi_ratio,
        case when coverage.fleet_covered then chain.higher_roi_gpu_hours / nullif(fleet.capacity_gpu_hours, 0) end
            as higher_roi_ratio,
        coverage.telemetry_coverage,
        coverage.jobs_coverage,
        coverage.traffic_coverage,
        (select sum(productive_gpu_hours) / nullif(sum(job_gpu_hours), 0) from ett where scope = 'fleet')
            as ett_ratio,
        (select sum(productive_gpu_hours) / nullif(sum(training_gpu_hours), 0) from ett where scope = 'fleet')
            as held_goodput_ratio,
        (select sum(requeue_wait_gpu_hours) / nullif(sum(job_gpu_hours), 0) from ett where scope = 'fleet')
            as requeue_wait_ratio,
        (select median(time_to_start_s) from training_runs) as median_time_to_start_s,
        (select median(time_to_recover_s) from recoveries) as median_time_to_recover_s,
        -- counts only where the data has the subject at all: a trace without traffic served no request unmeasured
        case when coverage.jobs_coverage <> 'none' then (select count(*) from jobs where scheduler <> 'serving') end
            as scheduler_jobs,
        case when coverage.jobs_coverage <> 'none' then (select count(*) from jobs where final_state = 'failed') end
            as failed_jobs,
        case when coverage.jobs_coverage <> 'none' then (select count(*) from jobs where final_state = 'preempted') end
            as preempted_jobs,
        (select median(wait_s) from jobs where scheduler <> 'serving' and started_at is not null)
            as median_queue_wait_s,
        case when coverage.traffic_coverage <> 'none' then coalesce((select sum(requests) from serving), 0) end
            as inference_requests,
        case when coverage.traffic_coverage <> 'none' then (select count(*) from low_traffic) end as low_traffic_models,
        case when coverage.traffic_coverage <> 'none' then
            (select coalesce(sum(reclaimable_usd_per_month), 0) from low_traffic)
        end as low_traffic_reclaimable_usd_per_month,
        (select sum(cost_usd) from costs) as capacity_cost_usd,
        (select sum(cost_usd) filter (where cost_kind = 'idle') / sum(cost_usd) from costs) as idle_cost_share
    from inventory
    cross join fleet
    cross join job_window
    cross join activity
    cross join held_activity
    cross join chain
    cross join (
        select *, telemetry_coverage = 'full' and jobs_coverage = 'full' as fleet_covered from coverage
    ) as coverage
)

select * from final
