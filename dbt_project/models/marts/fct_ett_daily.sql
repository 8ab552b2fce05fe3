-- UTC day x team (and the whole fleet): training GPU-hours split into ETT categories; ett_ratio = productive
-- GPU-hours / all GPU-hours training runs held that day (a GPU-hour-weighted ETT).
with training as (
    select * from {{ ref('int_training_gpu_hours_daily') }}
),

final as (
    select
        usage_date,
        case when grouping(team) = 1 then 'fleet' else 'team' end as scope,
        coalesce(team, 'all') as team,
        sum(gpu_hours) as training_gpu_hours,
        {%- for category in ett_categories() %}
        coalesce(sum(gpu_hours) filter (where category = '{{ category }}'), 0) as {{ category }}_gpu_hours,
        {%- endfor %}
        coalesce(sum(gpu_hours) filter (where category = 'productive'), 0) / nullif(sum(gpu_hours), 0) as ett_ratio
    from training
    group by grouping sets ((usage_date), (usage_date, team))
)

select * from final
