-- UTC month a stage visit ended x stage: how long models spent in each stage (median, p90), so seasonality in
-- development velocity shows. Only completed visits count (a visit still open has no duration yet).
with stages as (
    select * from {{ ref('fct_model_lifecycle_stages') }}
),

final as (
    select
        date_trunc('month', left_at)::date as month_start,
        stage,
        count(*) as stage_exits,
        count(distinct model_name) as models,
        quantile_cont(duration_s, 0.5) / 86400 as median_days,
        quantile_cont(duration_s, 0.9) / 86400 as p90_days,
        avg(duration_s) / 86400 as mean_days
    from stages
    where left_at is not null
    group by all
)

select * from final
