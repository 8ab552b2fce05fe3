-- one row: the fleet at a glance over the whole window (what `make demo` prints)
with gpu_hours as (
    select * from {{ ref('fct_gpu_hourly') }}
),

jobs as (
    select * from {{ ref('int_jobs_unioned') }}
),

requests as (
    select count(*) as requests from {{ ref('stg_inference__requests') }}
),

hourly_requests as (
    select coalesce(sum(requests), 0) as requests from {{ ref('stg_inference__hourly') }}
),

fleet as (
    select
        count(distinct host_id) as hosts,
        count(distinct host_id || '/' || gpu_index) as gpus,
        min(hour_at) as window_start,
        max(hour_at) + interval 1 hour as window_end,
        sum(existing_s) / 3600.0 as capacity_gpu_hours,
        sum(observed_s) / 3600.0 as observed_gpu_hours,
        sum(allocated_s) / 3600.0 as allocated_gpu_hours,
        sum(existing_s) filter (where reservation <> 'none') / 3600.0 as reserved_gpu_hours,
        sum(gpu_util_ratio * allocated_s) / nullif(sum(allocated_s) filter (where gpu_util_ratio is not null), 0)
            as allocated_gpu_util_ratio,
        sum(energy_wh) / 1e6 as energy_mwh,
        sum(existing_s / 3600.0 * usd_per_gpu_hour) as capacity_cost_usd
    from gpu_hours
),

final as (
    select
        fleet.*,
        date_diff('day', fleet.window_start, fleet.window_end) as days,
        fleet.allocated_gpu_hours / nullif(fleet.capacity_gpu_hours, 0) as allocated_ratio,
        (fleet.observed_gpu_hours - fleet.allocated_gpu_hours) / nullif(fleet.capacity_gpu_hours, 0) as idle_ratio,
        (fleet.capacity_gpu_hours - fleet.observed_gpu_hours) / nullif(fleet.capacity_gpu_hours, 0)
            as unobserved_ratio,
        (select count(*) from jobs) as scheduler_jobs,
        (select count(*) from jobs where state in ('FAILED', 'NODE_FAIL')) as failed_jobs,
        (select count(*) from jobs where state = 'PREEMPTED') as preempted_jobs,
        (select requests from requests) + (select requests from hourly_requests) as inference_requests
    from fleet
)

select * from final
