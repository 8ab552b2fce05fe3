-- Team x calendar month (UTC) of the job's end (running jobs: the window's last month): jobs and GPU-hours by
-- final state, and each state's share by count and by GPU time. Pending jobs used no GPU and are left out.
with jobs as (
    select * from {{ ref('fct_jobs') }}
),

telemetry_window as (
    select * from {{ ref('int_telemetry_window') }}
),

dated as (
    select
        date_trunc('month', coalesce(jobs.ended_at, telemetry_window.window_end - interval 1 microsecond))::date
            as month_start,
        coalesce(jobs.team, 'unknown') as team,
        jobs.final_state,
        jobs.gpu_hours
    from jobs
    cross join telemetry_window
    where jobs.final_state <> 'pending' and jobs.scheduler <> 'serving'
),

final as (
    select
        month_start,
        team,
        count(*) as jobs,
        sum(gpu_hours) as gpu_hours,
        {%- for state in ['completed', 'failed', 'cancelled', 'preempted', 'deleted_while_running', 'running'] %}
        count(*) filter (where final_state = '{{ state }}') as {{ state }}_jobs,
        coalesce(sum(gpu_hours) filter (where final_state = '{{ state }}'), 0) as {{ state }}_gpu_hours,
        count(*) filter (where final_state = '{{ state }}') / count(*) as {{ state }}_share_by_count,
        coalesce(sum(gpu_hours) filter (where final_state = '{{ state }}'), 0) / nullif(sum(gpu_hours), 0)
            as {{ state }}_share_by_gpu_time{{ "," if not loop.last }}
        {%- endfor %}
    from dated
    group by all
)

select * from final
