-- Model x UTC day: traffic, latency, the hours it was deployed (served_hours), the serving GPU-hours its
-- deployments held, and what a request costs. Low traffic is judged per served day (requests / served_hours x 24):
-- a model deployed at 13:24 is not low-traffic because its first day was short.
with traffic as (
    select * from {{ ref('int_model_traffic_hourly') }}
),

requests as (
    select * from {{ ref('stg_inference__requests') }}
),

hourly as (
    select * from {{ ref('stg_inference__hourly') }}
),

held as (
    select * from {{ ref('int_gpu_usage_daily') }}
),

deployments as (
    select * from {{ ref('stg_registry__serving_deployments') }}
),

telemetry_window as (
    select * from {{ ref('int_telemetry_window') }}
),

deployed as (
    select
        deployments.model_name,
        greatest(deployments.started_at, telemetry_window.window_start) as from_at,
        least(coalesce(deployments.ended_at, telemetry_window.window_end), telemetry_window.window_end) as until_at
    from deployments
    cross join telemetry_window
    where deployments.started_at < telemetry_window.window_end
        and coalesce(deployments.ended_at, telemetry_window.window_end) > telemetry_window.window_start
),

-- a model's overlapping deployments (replicas, a switch to a new version) serve it once: merge their periods
deployed_ordered as (
    select
        *,
        max(until_at) over (
            partition by model_name order by from_at, until_at rows between unbounded preceding and 1 preceding
        ) as reached_before
    from deployed
),

deployed_islands as (
    select
        *,
        sum(case when reached_before is null or from_at > reached_before then 1 else 0 end) over (
            partition by model_name order by from_at, until_at rows unbounded preceding
        ) as island
    from deployed_ordered
),

served_periods as (
    select model_name, min(from_at) as from_at, max(until_at) as until_at
    from deployed_islands
    group by model_name, island
),

served as (
    select
        model_name,
        day_at::date as usage_date,
        {{ us_to_hours(
            'sum(epoch_us(least(until_at, day_at + interval 1 day)) - epoch_us(greatest(from_at, day_at)))'
        ) }} as served_hours
    from (
        select
            *,
            unnest(generate_series(date_trunc('day', from_at), until_at - interval 1 microsecond, interval 1 day))
                as day_at
        from served_periods
    )
    group by all
),

daily_traffic as (
    select
        model_name,
        hour_at::date as usage_date,
        sum(requests) as requests,
        sum(input_tokens) as input_tokens,
        sum(output_tokens) as output_tokens,
        string_agg(distinct traffic_source, ',' order by traffic_source) as traffic_source
    from traffic
    group by all
),

-- exact percentiles where every request is logged; for hourly-only models, request-weighted means of the
-- hourly percentiles (an approximation, flagged by latency_source)
exact_latency as (
    select
        model_name,
        requested_at::date as usage_date,
        quantile_cont(latency_ms, 0.5) as latency_p50_ms,
        quantile_cont(latency_ms, 0.99) as latency_p99_ms
    from requests
    where latency_ms is not null
    group by all
),

approx_latency as (
    select
        model_name,
        hour_at::date as usage_date,
        sum(latency_p50_ms * requests) / nullif(sum(requests) filter (where latency_p50_ms is not null), 0)
            as latency_p50_ms,
        sum(latency_p99_ms * requests) / nullif(sum(requests) filter (where latency_p99_ms is not null), 0)
            as latency_p99_ms
    from hourly
    group by all
),

-- the seconds each deployment held each GPU, credited to its model
serving as (
    select
        workload as model_name,
        usage_date,
        {{ us_to_hours('sum(held_us)') }} as serving_gpu_hours,
        sum(held_cost_usd) as serving_cost_usd
    from held
    where allocation_source = 'serving'
    group by all
),

models_days as (
    select model_name, usage_date from daily_traffic
    union
    select model_name, usage_date from serving
    union
    select model_name, usage_date from served
),

joined as (
    select
        models_days.usage_date,
        models_days.model_name,
        coalesce(daily_traffic.requests, 0) as requests,
        coalesce(daily_traffic.input_tokens, 0) as input_tokens,
        coalesce(daily_traffic.output_tokens, 0) as output_tokens,
        daily_traffic.traffic_source,
        coalesce(exact_latency.latency_p50_ms, approx_latency.latency_p50_ms) as latency_p50_ms,
        coalesce(exact_latency.latency_p99_ms, approx_latency.latency_p99_ms) as latency_p99_ms,
        case
            when exact_latency.latency_p50_ms is not null then 'requests'
            when approx_latency.latency_p50_ms is not null then 'hourly_aggregates'
        end as latency_source,
        served.served_hours,
        coalesce(serving.serving_gpu_hours, 0) as serving_gpu_hours,
        coalesce(serving.serving_cost_usd, 0) as serving_cost_usd
    from models_days
    left join daily_traffic
        on models_days.model_name = daily_traffic.model_name and models_days.usage_date = daily_traffic.usage_date
    left join exact_latency
        on models_days.model_name = exact_latency.model_name and models_days.usage_date = exact_latency.usage_date
    left join approx_latency
        on models_days.model_name = approx_latency.model_name and models_days.usage_date = approx_latency.usage_date
    left join serving
        on models_days.model_name = serving.model_name and models_days.usage_date = serving.usage_date
    left join served
        on models_days.model_name = served.model_name and models_days.usage_date = served.usage_date
),

final as (
    select
        *,
        requests / nullif(served_hours / 24, 0) as requests_per_served_day,
        serving_gpu_hours / nullif(requests / 1000.0, 0) as gpu_hours_per_1k_requests,
        serving_cost_usd / nullif(requests / 1000.0, 0) as cost_per_1k_requests_usd,
        requests / nullif(sum(requests) over (partition by usage_date), 0) as request_share,
        serving_gpu_hours / nullif(sum(serving_gpu_hours) over (partition by usage_date), 0) as serving_gpu_share
    from joined
)

select
    *,
    serving_gpu_hours > 0 and (
        coalesce(requests_per_served_day, requests) < {{ var('low_traffic_requests_per_day') }}
        or coalesce(request_share / nullif(serving_gpu_share, 0), 0) < {{ var('low_traffic_relative_ratio') }}
    ) as is_low_traffic
from final
