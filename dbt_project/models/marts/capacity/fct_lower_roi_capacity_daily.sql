-- UTC day x team: GPU capacity that was used but returned little, in GPU-hours and $, by category:
-- overhead (start_overhead, checkpoint, data_stall, publishing), waste (lost_progress, recovery) and
-- serving models on low-traffic days (fct_model_serving_daily.is_low_traffic).
with training as (
    select * from {{ ref('int_training_gpu_hours_daily') }}
),

serving as (
    select * from {{ ref('fct_model_serving_daily') }}
),

deployments as (
    select * from {{ ref('stg_registry__serving_deployments') }}
),

model_teams as (
    select model_name, arg_max(team, started_at) as team from deployments group by model_name
),

categories as (
    select usage_date, team, category, gpu_hours, cost_usd
    from training
    where category in ('start_overhead', 'checkpoint', 'data_stall', 'publishing', 'lost_progress', 'recovery')
    union all
    select
        serving.usage_date,
        coalesce(model_teams.team, 'unknown') as team,
        'low_traffic_serving' as category,
        serving.serving_gpu_hours as gpu_hours,
        serving.serving_cost_usd as cost_usd
    from serving
    left join model_teams on serving.model_name = model_teams.model_name
    where serving.is_low_traffic
),

final as (
    select
        usage_date,
        team,
        {%- for category in lower_roi_categories() %}
        coalesce(sum(gpu_hours) filter (where category = '{{ category }}'), 0) as {{ category }}_gpu_hours,
        coalesce(sum(cost_usd) filter (where category = '{{ category }}'), 0) as {{ category }}_usd,
        {%- endfor %}
        sum(gpu_hours) filter (where category in ('start_overhead', 'checkpoint', 'data_stall', 'publishing'))
            as overhead_gpu_hours,
        sum(gpu_hours) filter (where category in ('lost_progress', 'recovery')) as waste_gpu_hours,
        sum(gpu_hours) as lower_roi_gpu_hours,
        sum(cost_usd) as lower_roi_usd
    from categories
    group by all
)

select * from final
