-- Model -> owning team (its most recent deployment's, else its most recent training run's) and project
-- (its most recent training run's).
with deployments as (
    select * from {{ ref('stg_registry__serving_deployments') }}
),

runs as (
    select * from {{ ref('int_training_runs') }}
),

candidates as (
    select model_name, team, started_at as seen_at, 1 as preference from deployments where team is not null
    union all
    select model_name, team, submitted_at as seen_at, 2 as preference from runs
    where model_name is not null and team is not null
),

projects as (
    select model_name, arg_max(project, submitted_at) as project
    from runs
    where model_name is not null and project is not null
    group by model_name
),

teams as (
    select model_name, arg_min(team, (preference, -epoch(coalesce(seen_at, timestamptz '1970-01-01 00:00:00+00'))))
        as team
    from candidates
    group by model_name
),

final as (
    select teams.model_name, teams.team, projects.project
    from teams
    left join projects on teams.model_name = projects.model_name
)

select * from final
