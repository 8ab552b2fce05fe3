-- One row per training run: its owner and what it ran on. Runs submitted before the window have no
-- `submitted` event; their owner (and model, from a Kubernetes attempt's model label) comes from the scheduler
-- records of their attempts.
with events as (
    select * from {{ ref('stg_training__training_events') }}
),

jobs as (
    select * from {{ ref('int_jobs_unioned') }}
),

skus as (
    select * from {{ ref('gpu_skus') }}
),

submissions as (
    select
        run_id,
        any_value(team) as team,
        any_value(user_name) as user_name,
        any_value(project) as project,
        any_value(model_name) as model_name,
        any_value(framework) as framework,
        any_value(gpu_model) as gpu_model,
        min(event_at) as submitted_at
    from events
    where event = 'submitted'
    group by run_id
),

scheduled as (
    -- the launcher names every attempt's scheduler job after the run
    select
        jobs.job_name as run_id,
        arg_min(jobs.team, jobs.submitted_at) as team,
        arg_min(jobs.user_pseudonym, jobs.submitted_at) as user_pseudonym,
        arg_min(jobs.project, jobs.submitted_at) as project,
        arg_min(jobs.model_name, jobs.submitted_at) filter (where jobs.model_name is not null) as model_name,
        arg_min(coalesce(gres.family, product.family), jobs.submitted_at) as gpu_family
    from jobs
    left join (select distinct gres_type, family from skus) as gres
        on jobs.allocation_source = 'slurm' and lower(jobs.gpu_type) = gres.gres_type
    left join (select distinct k8s_product, family from skus) as product
        on jobs.allocation_source = 'kubernetes' and jobs.gpu_type = product.k8s_product
    group by jobs.job_name
),

runs as (
    select distinct run_id from events
),

final as (
    select
        runs.run_id,
        coalesce(submissions.team, scheduled.team) as team,
        coalesce(submissions.project, scheduled.project) as project,
        coalesce({{ pseudonym('submissions.user_name') }}, scheduled.user_pseudonym) as user_pseudonym,
        coalesce(submissions.model_name, scheduled.model_name) as model_name,
        submissions.framework,
        submissions.gpu_model,
        coalesce(skus.family, scheduled.gpu_family) as gpu_family,
        submissions.submitted_at
    from runs
    left join submissions on runs.run_id = submissions.run_id
    left join scheduled on runs.run_id = scheduled.run_id
    left join skus on submissions.gpu_model = skus.gpu_model
)

select * from final
