-- The period the warehouse measures: whole UTC days from the first to the last day with any GPU sample. Data
-- without telemetry (a public trace of jobs or requests) is measured over the days of its scheduler records and
-- requests instead. Jobs still running are measured up to window_end ("as of").
-- The first and last sample instants are read from the raw tables, each collector's own min and max (its staging
-- view keeps these instants as they are, but for nvidia-smi's local clock, converted here the same way): one
-- column of every sample, where through the staging views each night would read and dedupe every sample of the
-- history.
with columnar as (
    select min(measured_at) as first_at, max(measured_at) as last_at
    from {{ source('gpu_telemetry', 'gpu_samples') }}
),

pulled as (
    select min(measured_at) as first_at, max(measured_at) as last_at
    from {{ source('gpu_telemetry', 'prometheus_samples') }}
),

dcgm as (
    -- the lines staging keeps: a GPU's (an exporter's own lines name none)
    select min(scraped_at) as first_at, max(scraped_at) as last_at
    from {{ source('gpu_telemetry', 'dcgm_samples') }}
    where gpu is not null
),

nvidia_smi as (
    select
        timezone('{{ var("nvidia_smi_timezone") }}', min(measured_at_local::timestamp))::timestamptz as first_at,
        timezone('{{ var("nvidia_smi_timezone") }}', max(measured_at_local::timestamp))::timestamptz as last_at
    from {{ source('gpu_telemetry', 'nvidia_smi_samples') }}
),

jobs as (
    select * from {{ ref('int_jobs_unioned') }}
),

requests as (
    select * from {{ ref('int_model_traffic_hourly') }}
),

telemetry as (
    select min(first_at) as first_at, max(last_at) as last_at
    from (
        select * from columnar
        union all
        select * from pulled
        union all
        select * from dcgm
        union all
        select * from nvidia_smi
    )
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
