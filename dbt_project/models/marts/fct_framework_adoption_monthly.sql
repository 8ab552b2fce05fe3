-- UTC month x framework (PT2 compiled / PT1 eager): share of training GPU-hours, GPU utilisation while
-- training runs held GPUs, samples consumed per GPU-hour, and GPU-hour-weighted ETT.
with training as (
    select * from {{ ref('int_training_gpu_hours_daily') }}
),

runs as (
    select * from {{ ref('int_training_runs') }}
),

events as (
    select * from {{ ref('stg_training__training_events') }}
),

gpu_hours as (
    select * from {{ ref('fct_gpu_hourly') }}
),

labelled as (
    select
        runs.run_id,
        case runs.framework when 'pt2' then 'PT2 compiled' when 'pt1' then 'PT1 eager' else 'unknown' end
            as framework
    from runs
),

time_split as (
    select
        date_trunc('month', training.usage_date)::date as month_start,
        labelled.framework,
        sum(training.gpu_hours) as training_gpu_hours,
        sum(training.gpu_hours) filter (where training.category = 'productive') as productive_gpu_hours
    from training
    inner join labelled on training.run_id = labelled.run_id
    group by all
),

samples as (
    select
        date_trunc('month', events.event_at)::date as month_start,
        labelled.framework,
        sum(events.samples_new) as samples_new,
        sum(events.samples_replayed) as samples_replayed
    from events
    inner join labelled on events.run_id = labelled.run_id
    where events.event = 'progress'
    group by all
),

utilisation as (
    -- the launcher names scheduler jobs after the run: telemetry-held hours map back to it
    select
        date_trunc('month', gpu_hours.hour_at)::date as month_start,
        labelled.framework,
        sum(gpu_hours.gpu_util_ratio * gpu_hours.allocated_s)
            / nullif(sum(gpu_hours.allocated_s) filter (where gpu_hours.gpu_util_ratio is not null), 0)
            as gpu_util_ratio,
        sum(gpu_hours.sm_active_ratio * gpu_hours.allocated_s)
            / nullif(sum(gpu_hours.allocated_s) filter (where gpu_hours.sm_active_ratio is not null), 0)
            as sm_active_ratio
    from gpu_hours
    inner join labelled on gpu_hours.allocated_workload = labelled.run_id
    group by all
),

final as (
    select
        time_split.month_start,
        time_split.framework,
        time_split.training_gpu_hours,
        time_split.training_gpu_hours / sum(time_split.training_gpu_hours) over (partition by time_split.month_start)
            as share_of_training_gpu_hours,
        utilisation.gpu_util_ratio,
        utilisation.sm_active_ratio,
        samples.samples_new,
        samples.samples_new / nullif(time_split.training_gpu_hours, 0) as new_samples_per_gpu_hour,
        coalesce(time_split.productive_gpu_hours, 0) / nullif(time_split.training_gpu_hours, 0) as ett_ratio
    from time_split
    left join samples
        on time_split.month_start = samples.month_start and time_split.framework = samples.framework
    left join utilisation
        on time_split.month_start = utilisation.month_start and time_split.framework = utilisation.framework
)

select * from final
