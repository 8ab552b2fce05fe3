-- The GPU charges as a FinOps FOCUS 1.x cost-and-usage dataset. The origin charge is one host's GPU capacity
-- for one UTC day; it is split (data-generator-calculated split cost allocation) into one allocated charge per
-- team x project x model that held its GPUs, plus one for the unused capacity, so the allocated charges of a
-- host-day sum back to its origin charge in every cost and quantity column. Money and quantities are DECIMAL:
-- each hour is charged at its own rate, and the unused charge is the origin less the used ones, so the sums are
-- exact.
with spine as (
    select * from {{ ref('int_gpu_hours_spined') }}
),

usage_owned as (
    select * from {{ ref('int_gpu_usage_owned') }}
),

prices as (
    select * from {{ ref('stg_inventory__gpu_prices') }}
),

origin as (
    select
        hour_at::date as charge_date,
        host_id,
        any_value(gpu_model) as gpu_model,
        any_value(cluster) as cluster,
        any_value(region) as region,
        any_value(usd_per_gpu_hour) as usd_per_gpu_hour,
        sum(existing_us) as existing_us,
        sum({{ usd_for_us('existing_us', 'usd_per_gpu_hour') }}) as cost_usd
    from spine
    group by all
),

used as (
    select
        hour_at::date as charge_date,
        host_id,
        team,
        project,
        model_name,
        sum(held_us) as held_us,
        sum({{ usd_for_us('held_us', 'usd_per_gpu_hour') }}) as cost_usd
    from usage_owned
    group by all
),

splits as (
    select
        charge_date,
        host_id,
        team,
        project,
        model_name,
        held_us as quantity_us,
        {{ us_to_hours('held_us') }} as quantity_gpu_hours,
        cost_usd,
        false as is_unused
    from used
    union all
    select
        origin.charge_date,
        origin.host_id,
        null as team,
        null as project,
        null as model_name,
        origin.existing_us - coalesce(sum(used.held_us), 0) as quantity_us,
        {{ us_to_hours('origin.existing_us') }} - coalesce(sum({{ us_to_hours('used.held_us') }}), 0)
            as quantity_gpu_hours,
        origin.cost_usd - coalesce(sum(used.cost_usd), 0) as cost_usd,
        true as is_unused
    from origin
    left join used on origin.charge_date = used.charge_date and origin.host_id = used.host_id
    group by origin.charge_date, origin.host_id, origin.existing_us, origin.cost_usd
),

final as (
    select
        'gpu-fleet' as "BillingAccountId",
        'GPU fleet' as "BillingAccountName",
        'USD' as "BillingCurrency",
        date_trunc('month', splits.charge_date)::timestamptz as "BillingPeriodStart",
        (date_trunc('month', splits.charge_date) + interval 1 month)::timestamptz as "BillingPeriodEnd",
        splits.charge_date::timestamptz as "ChargePeriodStart",
        (splits.charge_date + interval 1 day)::timestamptz as "ChargePeriodEnd",
        'Usage' as "ChargeCategory",
        null as "ChargeClass",
        case when splits.is_unused then 'Unused GPU capacity on ' else 'GPU capacity on ' end
            || origin.host_id as "ChargeDescription",
        'Usage-Based' as "ChargeFrequency",
        'Internal GPU fleet' as "ProviderName",
        'Internal GPU fleet' as "PublisherName",
        'Internal GPU fleet' as "InvoiceIssuerName",
        'AI and Machine Learning' as "ServiceCategory",
        'GPU Compute' as "ServiceName",
        origin.host_id as "ResourceId",
        origin.host_id as "ResourceName",
        'GPU Host' as "ResourceType",
        origin.region as "RegionId",
        origin.region as "RegionName",
        origin.gpu_model as "SkuId",
        splits.quantity_gpu_hours as "ConsumedQuantity",
        'GPU-Hour' as "ConsumedUnit",
        splits.quantity_gpu_hours as "PricingQuantity",
        'GPU-Hour' as "PricingUnit",
        prices.list_usd_per_gpu_hour as "ListUnitPrice",
        origin.usd_per_gpu_hour as "ContractedUnitPrice",
        {{ usd_for_us('splits.quantity_us', 'prices.list_usd_per_gpu_hour') }} as "ListCost",
        splits.cost_usd as "ContractedCost",
        splits.cost_usd as "EffectiveCost",
        splits.cost_usd as "BilledCost",
        splits.team as "SubAccountId",
        splits.team as "SubAccountName",
        json_object('project', splits.project, 'model', splits.model_name, 'cluster', origin.cluster) as "Tags",
        'gpu-seconds-held' as "AllocatedMethodId",
        json_object('basis', 'seconds each job or deployment held the host''s GPUs, from telemetry',
                    'unused', splits.is_unused) as "AllocatedMethodDetails",
        coalesce(splits.team || '/' || coalesce(splits.project, 'unknown'), 'unused') as "AllocatedResourceId",
        coalesce(splits.team, 'unused capacity') as "AllocatedResourceName",
        json_object('project', splits.project, 'model', splits.model_name) as "AllocatedTags"
    from splits
    inner join origin on splits.charge_date = origin.charge_date and splits.host_id = origin.host_id
    left join prices on origin.gpu_model = prices.gpu_model
    where splits.quantity_us > 0
)

select * from final
