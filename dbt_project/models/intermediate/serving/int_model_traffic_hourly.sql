-- Model x UTC hour: requests and tokens from per-request logs and from hourly aggregates (a model is expected
-- to come from one or the other; if both report an hour, both count).
with requests as (
    select * from {{ ref('stg_inference__requests') }}
),

hourly as (
    select * from {{ ref('stg_inference__hourly') }}
),

from_requests as (
    select
        model_name,
        date_trunc('hour', requested_at) as hour_at,
        count(*) as requests,
        sum(input_tokens) as input_tokens,
        sum(output_tokens) as output_tokens,
        'requests' as traffic_source
    from requests
    group by all
),

from_hourly as (
    select model_name, hour_at, requests, input_tokens, output_tokens, 'hourly_aggregates' as traffic_source
    from hourly
),

final as (
    select * from from_requests
    union all
    select * from from_hourly
)

select * from final
