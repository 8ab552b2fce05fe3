-- The period the warehouse measures: whole UTC days from the first to the last day with any GPU sample.
-- Jobs still running are measured up to window_end ("as of").
with samples as (
    select * from {{ ref('int_gpu_samples_unioned') }}
),

final as (
    select
        min(measured_at)::date::timestamptz as window_start,
        max(measured_at)::date::timestamptz + interval 1 day as window_end
    from samples
)

select * from final
