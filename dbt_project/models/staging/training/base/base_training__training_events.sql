-- Every exported lifecycle event, with the export it came in (partition_date, source_line); the fields an event type
-- carries are pulled out of `attributes`. An export may repeat an event; stg_training__training_events keeps one.
-- The row-level rules are tested here, on the days a refresh loaded (event_time partition_date).
{{ config(event_time='partition_date') }}

with source as (
    select * from {{ source('training', 'training_events') }}
),

renamed as (
    select
        -- the run and its scheduler jobs as the scheduler names them (redacted the same way)
        {{ redact_identities('run_id') }} as run_id,
        attempt,
        {{ redact_identities('scheduler_job_id') }} as scheduler_job_id,
        cluster,
        event,
        timezone('UTC', ts) as event_at,
        try_cast(attributes ->> '$.samples_new' as bigint) as samples_new,
        try_cast(attributes ->> '$.samples_replayed' as bigint) as samples_replayed,
        try_cast(attributes ->> '$.samples_total' as bigint) as samples_total,
        attributes ->> '$.outcome' as outcome,
        attributes ->> '$.failure_cause' as failure_cause,
        attributes ->> '$.device' as device,
        attributes ->> '$.final_state' as final_state,
        try_cast(attributes ->> '$.model_version' as integer) as model_version,
        attributes ->> '$.team' as team,
        attributes ->> '$.user' as user_name,
        attributes ->> '$.project' as project,
        attributes ->> '$.model' as model_name,
        attributes ->> '$.framework' as framework,
        try_cast(attributes ->> '$.n_gpus' as integer) as n_gpus,
        attributes ->> '$.gpu_model' as gpu_model,
        try_cast(attributes ->> '$.xid' as integer) as xid_error,
        attributes,
        partition_date,
        source_line
    from source
)

select * from renamed
