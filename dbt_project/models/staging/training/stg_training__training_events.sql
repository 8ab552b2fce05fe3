-- one row per lifecycle event (an event repeated by a later export is kept once, from the newest)
with exports as (
    select * from {{ ref('base_training__training_events') }}
),

deduplicated as (
    select * exclude (partition_date, source_line)
    from exports
    qualify row_number() over (
        partition by run_id, attempt, event, event_at order by partition_date desc, source_line
    ) = 1
)

select * from deduplicated
