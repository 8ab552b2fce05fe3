-- Team x UTC month: what the team got out of its GPUs - experiments run, models trained, models deployed -
-- per 1k GPU-hours it held and per developer.
with runs as (
    select * from {{ ref('fct_training_jobs') }}
),

transitions as (
    select * from {{ ref('stg_registry__model_stage_events') }}
),

owners as (
    select * from {{ ref('int_model_owners') }}
),

held as (
    select * from {{ ref('int_gpu_usage_daily') }}
),

headcount as (
    select * from {{ ref('stg_org__team_headcount') }}
),

outputs as (
    select date_trunc('month', started_at)::date as month_start, team, 'experiments_run' as output
    from runs
    union all
    -- a model is trained when a run completes and registers a version
    select date_trunc('month', ended_at)::date, team, 'models_trained'
    from runs
    where final_state = 'completed' and model_version is not null
    union all
    select date_trunc('month', transitions.transitioned_at)::date, owners.team, 'models_deployed'
    from transitions
    left join owners on transitions.model_name = owners.model_name
    where transitions.to_stage = 'deployed'
),

output_counts as (
    select
        month_start,
        coalesce(team, 'unknown') as team,
        count(*) filter (where output = 'experiments_run') as experiments_run,
        count(*) filter (where output = 'models_trained') as models_trained,
        count(*) filter (where output = 'models_deployed') as models_deployed
    from outputs
    group by all
),

-- the GPU-hours each holder held, credited to its team (as fct_cost_allocation_monthly charges them)
usage as (
    select
        date_trunc('month', usage_date)::date as month_start,
        coalesce(team, 'unknown') as team,
        {{ us_to_hours('sum(held_us)') }} as gpu_hours
    from held
    group by all
),

final as (
    select
        coalesce(output_counts.month_start, usage.month_start) as month_start,
        coalesce(output_counts.team, usage.team) as team,
        coalesce(output_counts.experiments_run, 0) as experiments_run,
        coalesce(output_counts.models_trained, 0) as models_trained,
        coalesce(output_counts.models_deployed, 0) as models_deployed,
        coalesce(usage.gpu_hours, 0) as gpu_hours,
        headcount.headcount as developers,
        coalesce(output_counts.models_trained, 0) / nullif(usage.gpu_hours / 1000, 0) as models_trained_per_1k_gpu_hours,
        coalesce(output_counts.models_deployed, 0) / nullif(usage.gpu_hours / 1000, 0)
            as models_deployed_per_1k_gpu_hours,
        coalesce(output_counts.experiments_run, 0) / nullif(usage.gpu_hours / 1000, 0)
            as experiments_per_1k_gpu_hours,
        coalesce(output_counts.models_trained, 0) / nullif(headcount.headcount, 0) as models_trained_per_developer,
        coalesce(output_counts.models_deployed, 0) / nullif(headcount.headcount, 0) as models_deployed_per_developer,
        coalesce(output_counts.experiments_run, 0) / nullif(headcount.headcount, 0) as experiments_per_developer
    from output_counts
    full outer join usage on output_counts.month_start = usage.month_start and output_counts.team = usage.team
    left join headcount
        on coalesce(output_counts.team, usage.team) = headcount.team
        and coalesce(output_counts.month_start, usage.month_start) = headcount.month_start
    where coalesce(output_counts.month_start, usage.month_start) is not null
)

select * from final
