-- Models serving at the end of the window whose traffic is low (absolute or relative to the GPUs they hold),
-- with what retiring or consolidating them would give back per month.
with daily as (
    select * from {{ ref('fct_model_serving_daily') }}
),

deployments as (
    select * from {{ ref('stg_registry__serving_deployments') }}
),

telemetry_window as (
    select * from {{ ref('int_telemetry_window') }}
),

live as (
    -- deployed models still serving at the window end
    select distinct deployments.model_name
    from deployments
    cross join telemetry_window
    where deployments.started_at < telemetry_window.window_end
        and (deployments.ended_at is null or deployments.ended_at >= telemetry_window.window_end)
),

per_model as (
    select
        daily.model_name,
        count(*) filter (where daily.serving_gpu_hours > 0) as serving_days,
        sum(daily.requests) / nullif(count(*) filter (where daily.serving_gpu_hours > 0), 0) as requests_per_day,
        sum(daily.serving_gpu_hours) / nullif(count(*) filter (where daily.serving_gpu_hours > 0), 0)
            as serving_gpu_hours_per_day,
        sum(daily.serving_cost_usd) / nullif(count(*) filter (where daily.serving_gpu_hours > 0), 0)
            as serving_cost_usd_per_day,
        sum(daily.requests) / nullif(sum(sum(daily.requests)) over (), 0) as request_share,
        sum(daily.serving_gpu_hours) / nullif(sum(sum(daily.serving_gpu_hours)) over (), 0) as serving_gpu_share
    from daily
    inner join live on daily.model_name = live.model_name
    group by daily.model_name
),

final as (
    select
        *,
        request_share / nullif(serving_gpu_share, 0) as traffic_to_gpu_ratio,
        requests_per_day < {{ var('low_traffic_requests_per_day') }} as below_absolute_threshold,
        coalesce(request_share / nullif(serving_gpu_share, 0), 0) < {{ var('low_traffic_relative_ratio') }}
            as below_relative_threshold,
        serving_gpu_hours_per_day * {{ var('days_per_month') }} as reclaimable_gpu_hours_per_month,
        serving_cost_usd_per_day * {{ var('days_per_month') }} as reclaimable_usd_per_month
    from per_model
)

select * from final
where below_absolute_threshold or below_relative_threshold
