-- The period the warehouse measures: whole UTC days from the first to the last day with any GPU sample. Data
-- without telemetry (a public trace of jobs or requests) is measured over the days of its scheduler records and
-- requests instead. Jobs still running are measured up to window_end ("as of").
with samples as (
    select * from {{ ref('int_gpu_samples_unioned') }}
),

jobs as (
    select * from {{ ref('int_jobs_unioned') }}
),

requests as (
    select * from {{ ref('int_model_traffic_hourly') }}
),

telemetry as (
    select min(measured_at) as first_at, max(measured_at) as last_at from samples
),

activity as (
    select min(first_at) as first_at, max(last_at) as last_at
    from (
        select min(submitted_at) as first_at, max(greatest(submitted_at, started_at, ended_at)) as last_at from jobs
        union all
        select min(hour_at), max(hour_at) from requests
    )
),

final as (
    select
        coalesce(telemetry.first_at, activity.first_at)::date::timestamptz as window_start,
        coalesce(telemetry.last_at, activity.last_at)::date::timestamptz + interval 1 day as window_end,
        telemetry.first_at is not null as has_telemetry
    from telemetry
    cross join activity
)

select * from final
