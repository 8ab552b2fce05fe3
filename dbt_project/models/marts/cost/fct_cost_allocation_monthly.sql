-- Team x project x UTC month: what the GPUs they held cost, and the fleet's unallocated (idle) cost two ways:
-- as its own line (cost_usd, team '(idle)') and shared back to teams in proportion to their usage
-- (cost_shared_idle_usd, like OpenCost's shareIdle). Each column sums to the month's fleet cost.
-- Built a month per query: a refresh rebuilds the months of its days, from those months of its inputs.
{{ incremental_by(event_time='month_start', batch_size='month') }}

with spine as (
    select * from {{ ref('int_gpu_hours_spined') }}
),

usage_owned as (
    select * from {{ ref('int_gpu_usage_owned') }}
),

fleet as (
    select
        date_trunc('month', hour_at)::date as month_start,
        {{ us_to_hours('sum(existing_us)') }} as capacity_gpu_hours,
        sum({{ usd_for_us('existing_us', 'usd_per_gpu_hour') }}) as fleet_cost_usd
    from spine
    group by all
),

usage as (
    select
        date_trunc('month', hour_at)::date as month_start,
        coalesce(team, 'unknown') as team,
        coalesce(project, 'unknown') as project,
        {{ us_to_hours('sum(held_us)') }} as gpu_hours,
        sum({{ usd_for_us('held_us', 'usd_per_gpu_hour') }}) as usage_cost_usd
    from usage_owned
    group by all
),

idle as (
    select
        fleet.month_start,
        fleet.capacity_gpu_hours - coalesce(sum(usage.gpu_hours), 0) as idle_gpu_hours,
        fleet.fleet_cost_usd - coalesce(sum(usage.usage_cost_usd), 0) as idle_cost_usd,
        fleet.fleet_cost_usd,
        sum(usage.usage_cost_usd) as used_cost_usd
    from fleet
    left join usage on fleet.month_start = usage.month_start
    group by fleet.month_start, fleet.capacity_gpu_hours, fleet.fleet_cost_usd
),

final as (
    select
        usage.month_start,
        usage.team,
        usage.project,
        'usage' as cost_kind,
        usage.gpu_hours,
        usage.usage_cost_usd as cost_usd,
        usage.usage_cost_usd / idle.used_cost_usd as usage_share,
        {{ to_usd('idle.idle_cost_usd * usage.usage_cost_usd / idle.used_cost_usd') }} as shared_idle_cost_usd,
        usage.usage_cost_usd + {{ to_usd('idle.idle_cost_usd * usage.usage_cost_usd / idle.used_cost_usd') }}
            as cost_shared_idle_usd
    from usage
    inner join idle on usage.month_start = idle.month_start
    union all
    select
        month_start,
        '(idle)' as team,
        '(idle)' as project,
        'idle' as cost_kind,
        idle_gpu_hours as gpu_hours,
        idle_cost_usd as cost_usd,
        null as usage_share,
        0::decimal(18, 6) as shared_idle_cost_usd,
        -- with nothing used all month, nothing can take a share: the idle line keeps the cost
        case when coalesce(used_cost_usd, 0) = 0 then idle_cost_usd else 0 end as cost_shared_idle_usd
    from idle
)

select * from final
