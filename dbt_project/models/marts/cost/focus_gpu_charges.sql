-- The GPU charges as a FinOps FOCUS cost-and-usage dataset: the FOCUS 1.2 columns (focus-validator passes it at
-- 1.2) and FOCUS 1.3's split cost allocation columns. The origin charge is one host's GPU capacity for one UTC
-- day. A host-day that someone held is split (data generator-calculated split cost allocation) into one
-- allocated charge per team x project x model that held its GPUs: the GPU time it held, each hour at its rate,
-- plus a share of the host-day's unused capacity in proportion to the GPU-seconds it held (the idle share-back).
-- A host-day nobody held stays one charge, not split. Every dimension of an allocated charge is its origin's,
-- the holder is in the Allocated* columns only, and the allocated charges of a host-day sum back to the origin
-- in every cost and quantity column, exactly: money and quantities are DECIMAL and the shares are cut with
-- cumulative rounding (macro cumulative_share). Built a UTC day of charges per query, from that day of its inputs.
{{ incremental_by(event_time='ChargePeriodStart') }}

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
        {{ us_to_hours('sum(existing_us)') }} as gpu_hours,
        sum({{ usd_for_us('existing_us', 'usd_per_gpu_hour') }}) as cost_usd
    from spine
    group by all
    having sum(existing_us) > 0
),

used as (
    select
        hour_at::date as charge_date,
        host_id,
        team,
        project,
        model_name,
        sum(held_us) as held_us,
        {{ us_to_hours('sum(held_us)') }} as held_gpu_hours,
        sum({{ usd_for_us('held_us', 'usd_per_gpu_hour') }}) as held_cost_usd
    from usage_owned
    group by all
    having sum(held_us) > 0
),

-- each holder of a host-day, with the GPU-seconds held by the holders up to it (in a fixed order) and by all of
-- them, and the host-day's unused capacity they share
holders as (
    select
        used.*,
        sum(used.held_us) over (
            partition by used.charge_date, used.host_id
            order by used.team, used.project, used.model_name
            rows between unbounded preceding and current row
        ) as held_us_through,
        sum(used.held_us) over (partition by used.charge_date, used.host_id) as host_day_held_us,
        origin.gpu_hours - sum(used.held_gpu_hours) over (partition by used.charge_date, used.host_id)
            as host_day_idle_gpu_hours,
        origin.cost_usd - sum(used.held_cost_usd) over (partition by used.charge_date, used.host_id)
            as host_day_idle_cost_usd
    from used
    inner join origin on used.charge_date = origin.charge_date and used.host_id = origin.host_id
),

splits as (
    select
        charge_date,
        host_id,
        team,
        project,
        model_name,
        true as is_split,
        held_gpu_hours,
        held_cost_usd,
        {{ cumulative_share('host_day_idle_gpu_hours', 'held_us_through', 'host_day_held_us', 9) }}
            - {{ cumulative_share('host_day_idle_gpu_hours', 'held_us_through - held_us', 'host_day_held_us', 9) }}
            as idle_gpu_hours,
        {{ cumulative_share('host_day_idle_cost_usd', 'held_us_through', 'host_day_held_us', 6) }}
            - {{ cumulative_share('host_day_idle_cost_usd', 'held_us_through - held_us', 'host_day_held_us', 6) }}
            as idle_cost_usd
    from holders
    union all
    select
        origin.charge_date,
        origin.host_id,
        null as team,
        null as project,
        null as model_name,
        false as is_split,
        0 as held_gpu_hours,
        0 as held_cost_usd,
        origin.gpu_hours as idle_gpu_hours,
        origin.cost_usd as idle_cost_usd
    from origin
    left join used on origin.charge_date = used.charge_date and origin.host_id = used.host_id
    where used.host_id is null
),

charges as (
    select
        splits.*,
        (splits.held_gpu_hours + splits.idle_gpu_hours)::decimal(18, 9) as gpu_hours,
        (splits.held_cost_usd + splits.idle_cost_usd)::decimal(18, 6) as cost_usd,
        -- an element's AllocatedRatio is its part of the origin's cost (of its GPU-hours if the origin cost $0)
        case when origin.cost_usd > 0 then splits.held_cost_usd / origin.cost_usd
            else splits.held_gpu_hours / origin.gpu_hours end as held_ratio,
        case when origin.cost_usd > 0 then splits.idle_cost_usd / origin.cost_usd
            else splits.idle_gpu_hours / origin.gpu_hours end as idle_ratio,
        concat_ws('/', coalesce(splits.team, 'unknown'), coalesce(splits.project, 'unknown'), splits.model_name)
            as holder_id
    from splits
    inner join origin on splits.charge_date = origin.charge_date and splits.host_id = origin.host_id
),

final as (
    select
        'gpu-fleet' as "BillingAccountId",
        'GPU fleet' as "BillingAccountName",
        'USD' as "BillingCurrency",
        date_trunc('month', charges.charge_date)::timestamptz as "BillingPeriodStart",
        (date_trunc('month', charges.charge_date) + interval 1 month)::timestamptz as "BillingPeriodEnd",
        charges.charge_date::timestamptz as "ChargePeriodStart",
        (charges.charge_date + interval 1 day)::timestamptz as "ChargePeriodEnd",
        'Usage' as "ChargeCategory",
        null::varchar as "ChargeClass",
        'GPU capacity on ' || origin.host_id as "ChargeDescription",
        'Usage-Based' as "ChargeFrequency",
        -- an internal chargeback issues no invoice, provisional or final: InvoiceId is present and NULL
        null::varchar as "InvoiceId",
        'Internal GPU fleet' as "InvoiceIssuerName",
        'Internal GPU fleet' as "ProviderName",
        'Internal GPU fleet' as "PublisherName",
        'AI and Machine Learning' as "ServiceCategory",
        'AI Platforms' as "ServiceSubcategory",
        'GPU Compute' as "ServiceName",
        origin.host_id as "ResourceId",
        origin.host_id as "ResourceName",
        'GPU Host' as "ResourceType",
        origin.region as "RegionId",
        origin.region as "RegionName",
        origin.gpu_model as "SkuId",
        origin.cluster as "SubAccountId",
        origin.cluster as "SubAccountName",
        charges.gpu_hours as "ConsumedQuantity",
        'GPU-Hours' as "ConsumedUnit",
        charges.gpu_hours as "PricingQuantity",
        'GPU-Hours' as "PricingUnit",
        prices.list_usd_per_gpu_hour as "ListUnitPrice",
        origin.usd_per_gpu_hour as "ContractedUnitPrice",
        -- the exact product (15 decimals), so the allocated list costs add up to the origin's too
        prices.list_usd_per_gpu_hour * charges.gpu_hours::decimal(20, 9) as "ListCost",
        charges.cost_usd as "ContractedCost",
        charges.cost_usd as "EffectiveCost",
        charges.cost_usd as "BilledCost",
        -- the JSON columns as text (FOCUS: JSON serialized as a String): Parquet readers without DuckDB's JSON
        -- type (polars, the validator's loader) read it as bytes otherwise
        json_object('cluster', origin.cluster)::varchar as "Tags",
        case when charges.is_split then 'gpu-seconds-held-idle-shared' end as "AllocatedMethodId",
        case when charges.is_split then json_object('Elements', json_array(
            json_object(
                'AllocatedRatio', charges.held_ratio,
                'UsageUnit', 'GPU-Hours',
                'UsageQuantity', charges.held_gpu_hours::double,
                'x_Part', 'Held'
            ),
            json_object(
                'AllocatedRatio', charges.idle_ratio,
                'UsageUnit', 'GPU-Hours',
                'UsageQuantity', charges.idle_gpu_hours::double,
                'x_Part', 'SharedIdle'
            )
        ))::varchar end as "AllocatedMethodDetails",
        case when charges.is_split then charges.holder_id end as "AllocatedResourceId",
        case when charges.is_split then charges.holder_id end as "AllocatedResourceName",
        -- json_merge_patch drops the keys whose value is null (a holder with no model)
        case when charges.is_split then json_merge_patch(
            '{}', json_object('team', charges.team, 'project', charges.project, 'model', charges.model_name)
        )::varchar end as "AllocatedTags",
        charges.held_cost_usd::decimal(18, 6) as "x_HeldCost",
        charges.idle_cost_usd::decimal(18, 6) as "x_IdleCost"
    from charges
    inner join origin on charges.charge_date = origin.charge_date and charges.host_id = origin.host_id
    left join prices on origin.gpu_model = prices.gpu_model
)

select * from final
