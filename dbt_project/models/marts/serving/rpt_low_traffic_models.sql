-- Models serving at the end of the window whose traffic is low (absolute or relative to the GPUs they hold),
-- with what retiring or consolidating them would give back per month. Requests and held GPU-hours are per
-- served day: the hours the model was deployed in the window / 24 (a model deployed mid-day has a short first
-- day), and what it gives back is the GPU-hours its deployments actually held per served day.
-- Data with serving requests but no registry deployments (a public request trace): a model that received
-- requests is serving over the whole traffic period, its days are the period's days, and the GPUs it held are
-- not measured, so only the absolute threshold applies and what retiring it gives back is NULL.
with daily as (
    select * from {{ ref('fct_model_serving_daily') }}
),

deployments as (
    select * from {{ ref('stg_registry__serving_deployments') }}
),

telemetry_window as (
    select * from {{ ref('int_telemetry_window') }}
),

registry as (
    select count(*) > 0 as has_deployments from deployments
),

live as (
    -- deployed models still serving at the window end
    select distinct deployments.model_name
    from deployments
    cross join telemetry_window
    where deployments.started_at < telemetry_window.window_end
        and (deployments.ended_at is null or deployments.ended_at >= telemetry_window.window_end)
    union
    -- without deployments: every model the traffic names
    select distinct daily.model_name
    from daily
    cross join registry
    where not registry.has_deployments and daily.requests > 0
),

traffic_period as (
    select date_diff('day', min(usage_date), max(usage_date)) + 1 as days
    from daily
    where requests > 0
),

per_model as (
    select
        daily.model_name,
        case when any_value(registry.has_deployments)
            then coalesce(sum(daily.served_hours), 0) / 24
            else any_value(traffic_period.days)
        end as serving_days,
        any_value(registry.has_deployments) as measured_gpus,
        sum(daily.serving_gpu_hours) as serving_gpu_hours,
        sum(daily.serving_cost_usd) as serving_cost_usd,
        sum(daily.requests) as requests,
        sum(daily.requests) / nullif(sum(sum(daily.requests)) over (), 0) as request_share,
        sum(daily.serving_gpu_hours) / nullif(sum(sum(daily.serving_gpu_hours)) over (), 0) as serving_gpu_share
    from daily
    inner join live on daily.model_name = live.model_name
    cross join registry
    cross join traffic_period
    group by daily.model_name
),

rates as (
    select
        * exclude (serving_gpu_hours, serving_cost_usd, requests, measured_gpus, serving_gpu_share),
        requests / nullif(serving_days, 0) as requests_per_day,
        case when measured_gpus then serving_gpu_share end as serving_gpu_share,
        case when measured_gpus then serving_gpu_hours / nullif(serving_days, 0) end as serving_gpu_hours_per_day,
        case when measured_gpus then serving_cost_usd / nullif(serving_days, 0) end as serving_cost_usd_per_day
    from per_model
),

final as (
    select
        *,
        request_share / nullif(serving_gpu_share, 0) as traffic_to_gpu_ratio,
        requests_per_day < {{ var('low_traffic_requests_per_day') }} as below_absolute_threshold,
        -- relative to the GPUs held: only where they were measured
        case when serving_gpu_share is not null
            then coalesce(request_share / nullif(serving_gpu_share, 0), 0) < {{ var('low_traffic_relative_ratio') }}
        end as below_relative_threshold,
        (serving_gpu_hours_per_day * {{ var('days_per_month') }})::decimal(18, 9) as reclaimable_gpu_hours_per_month,
        {{ to_usd('serving_cost_usd_per_day * ' ~ var('days_per_month')) }} as reclaimable_usd_per_month
    from rates
)

select * from final
where below_absolute_threshold or below_relative_threshold
