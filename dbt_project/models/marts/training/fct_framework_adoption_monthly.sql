-- UTC month x framework (PT2 compiled / PT1 eager): share of training GPU-hours, GPU utilisation while
-- training runs held GPUs (each run over its own held seconds), samples consumed per GPU-hour, and GPU-weighted ETT
-- over job time with the goodput of held time.
with training as (
    select * from {{ ref('int_training_gpu_hours_daily') }}
),

runs as (
    select * from {{ ref('int_training_runs') }}
),

events as (
    select * from {{ ref('stg_training__training_events') }}
),

held as (
    select * from {{ ref('int_gpu_usage_daily') }}
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
        sum(training.gpu_hours) filter (where training.holds_gpus) as training_gpu_hours,
        sum(training.gpu_hours) as job_gpu_hours,
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
    -- the launcher names scheduler jobs after the run: each holder's own held seconds map back to it
    select
        date_trunc('month', held.usage_date)::date as month_start,
        labelled.framework,
        {{ held_mean('held.gpu_util_ratio') }} as gpu_util_ratio,
        {{ held_mean('held.sm_active_ratio') }} as sm_active_ratio
    from held
    inner join labelled on held.workload = labelled.run_id
    where held.allocation_source in ('slurm', 'kubernetes')
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
        coalesce(time_split.productive_gpu_hours, 0) / nullif(time_split.job_gpu_hours, 0) as ett_ratio,
        coalesce(time_split.productive_gpu_hours, 0) / nullif(time_split.training_gpu_hours, 0) as held_goodput_ratio
    from time_split
    left join samples
        on time_split.month_start = samples.month_start and time_split.framework = samples.framework
    left join utilisation
        on time_split.month_start = utilisation.month_start and time_split.framework = utilisation.framework
)

select * from final
