-- GPU x UTC hour x allocation: the microseconds each job or deployment held the GPU (several can share an hour).
-- Built one UTC day of hours per query (dbt microbatch on hour_at). The classified time is read unfiltered by dbt
-- (.render()) and selected by hour: hour 00 has rows from the previous day's last samples too.
{{ config(
    materialized='incremental', incremental_strategy='microbatch', event_time='hour_at', batch_size='day',
    begin='2016-01-01', concurrent_batches=false
) }}

with classified as (
    select * from {{ ref('int_gpu_samples_classified').render() }}
    where {{ in_batch('hour_at') }}
),

final as (
    select host_id, gpu_index, hour_at, allocation_source, allocation_id, sum(covered_us) as held_us
    from classified
    where allocation_id is not null
    group by all
)

select * from final
