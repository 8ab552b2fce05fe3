-- FOCUS split cost allocation: the charges of a host-day add back up to the origin charge (the host's capacity
-- that day x each hour's rate) in quantity and cost, exactly (DECIMAL), and the AllocatedRatio of every element
-- of every allocated charge of a split host-day add up to 1.
{{ config(meta={'dagster': {'ref': {'name': 'focus_gpu_charges'}}}) }}
with origin as (
    select
        hour_at::date as charge_date,
        host_id,
        {{ us_to_hours('sum(existing_us)') }} as gpu_hours,
        sum({{ usd_for_us('existing_us', 'usd_per_gpu_hour') }}) as cost_usd
    from {{ ref('int_gpu_hours_spined') }}
    where {{ in_rebuilt_window('hour_at') }}
    group by all
),

charges as (
    select * from {{ ref('focus_gpu_charges') }}
    where {{ in_rebuilt_window('"ChargePeriodStart"') }}
),

allocated as (
    select
        "ChargePeriodStart"::date as charge_date,
        "ResourceId" as host_id,
        sum("ConsumedQuantity") as gpu_hours,
        sum("BilledCost") as cost_usd,
        count("AllocatedMethodId") as split_charges
    from charges
    group by all
),

ratios as (
    select
        charges."ChargePeriodStart"::date as charge_date,
        charges."ResourceId" as host_id,
        sum((element ->> 'AllocatedRatio')::double) as ratio
    from charges,
        unnest(json_extract(charges."AllocatedMethodDetails", '$.Elements[*]')) as elements (element)
    where charges."AllocatedMethodId" is not null
    group by all
)

select *
from origin
full outer join allocated using (charge_date, host_id)
left join ratios using (charge_date, host_id)
where coalesce(origin.gpu_hours, 0) <> coalesce(allocated.gpu_hours, 0)
    or coalesce(origin.cost_usd, 0) <> coalesce(allocated.cost_usd, 0)
    or (allocated.split_charges > 0 and abs(coalesce(ratios.ratio, 0) - 1) > 1e-9)
