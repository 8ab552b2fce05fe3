-- Everything that can hold a GPU - a Slurm job, a Kubernetes Job, a serving deployment - keyed as the telemetry
-- allocation labels name it, with its owner: team, project, model, and the workload (run id or model).
with jobs as (
    select * from {{ ref('int_jobs_unioned') }}
),

runs as (
    select * from {{ ref('int_training_runs') }}
),

deployments as (
    select * from {{ ref('stg_registry__serving_deployments') }}
),

owners as (
    select * from {{ ref('int_model_owners') }}
),

scheduled as (
    select
        jobs.allocation_source,
        jobs.cluster,
        jobs.scheduler_job_id as allocation_id,
        coalesce(jobs.team, runs.team) as team,
        coalesce(jobs.project, runs.project) as project,
        runs.model_name,
        jobs.job_name as workload
    from jobs
    -- the launcher names a training run's scheduler jobs after the run
    left join runs on jobs.job_name = runs.run_id
),

served as (
    select
        'serving' as allocation_source,
        deployments.cluster,
        deployments.deployment_id as allocation_id,
        coalesce(deployments.team, owners.team) as team,
        owners.project,
        deployments.model_name,
        deployments.model_name as workload
    from deployments
    left join owners on deployments.model_name = owners.model_name
),

final as (
    select * from scheduled
    union all
    select * from served
)

select * from final
