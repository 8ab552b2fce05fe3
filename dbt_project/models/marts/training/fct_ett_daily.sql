-- UTC day x team (and the whole fleet): training runs' GPU time split into ETT categories, GPU-weighted.
-- ett_ratio = productive GPU-hours / the runs' GPUs x their end-to-end time that day (job_gpu_hours: every held
-- category plus requeue_wait between attempts), the share of total job time spent consuming new training data.
-- held_goodput_ratio = productive / held GPU-hours (training_gpu_hours): the goodput of the GPU time held.
with training as (
    select * from {{ ref('int_training_gpu_hours_daily') }}
),

final as (
    select
        usage_date,
        case when grouping(team) = 1 then 'fleet' else 'team' end as scope,
        coalesce(team, 'all') as team,
        sum(gpu_hours) as job_gpu_hours,
        coalesce(sum(gpu_hours) filter (where holds_gpus), 0) as training_gpu_hours,
        {%- for category in ett_categories() + ['requeue_wait'] %}
        coalesce(sum(gpu_hours) filter (where category = '{{ category }}'), 0) as {{ category }}_gpu_hours,
        {%- endfor %}
        coalesce(sum(gpu_hours) filter (where category = 'productive'), 0) / nullif(sum(gpu_hours), 0) as ett_ratio,
        coalesce(sum(gpu_hours) filter (where category = 'productive'), 0)
            / nullif(sum(gpu_hours) filter (where holds_gpus), 0) as held_goodput_ratio
    from training
    group by grouping sets ((usage_date), (usage_date, team))
)

select * from final
