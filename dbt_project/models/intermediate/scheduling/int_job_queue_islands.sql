-- Periods during which at least one job waited in a cluster's queue for a GPU family (NULL family = the job
-- accepts any GPU model). Overlapping waits merge into one island (gaps and islands).
with jobs as (
    select * from {{ ref('int_jobs_unioned') }}
),

skus as (
    select * from {{ ref('gpu_skus') }}
),

gres_families as (
    select distinct gres_type, family from skus
),

k8s_families as (
    select distinct k8s_product, family from skus
),

waits as (
    select
        jobs.cluster,
        coalesce(gres_families.family, k8s_families.family) as gpu_family,
        coalesce(jobs.eligible_at, jobs.submitted_at) as waiting_from,
        -- still pending: waits until the end of time; cancelled while pending: until it ended
        coalesce(jobs.started_at, jobs.ended_at, timestamptz '9999-12-31 00:00:00+00') as waiting_until
    from jobs
    left join gres_families
        on jobs.allocation_source = 'slurm' and lower(jobs.gpu_type) = gres_families.gres_type
    left join k8s_families
        on jobs.allocation_source = 'kubernetes' and jobs.gpu_type = k8s_families.k8s_product
    where jobs.gpus > 0
        and coalesce(jobs.eligible_at, jobs.submitted_at) is not null
        and coalesce(jobs.eligible_at, jobs.submitted_at)
            < coalesce(jobs.started_at, jobs.ended_at, timestamptz '9999-12-31 00:00:00+00')
),

flagged as (
    select
        *,
        case
            when waiting_from <= max(waiting_until) over (
                partition by cluster, gpu_family order by waiting_from, waiting_until
                rows between unbounded preceding and 1 preceding
            ) then 0
            else 1
        end as starts_island
    from waits
),

numbered as (
    select
        *,
        sum(starts_island) over (
            partition by cluster, gpu_family order by waiting_from, waiting_until rows unbounded preceding
        ) as island
    from flagged
),

final as (
    select
        cluster,
        gpu_family,
        min(waiting_from) as waiting_from,
        max(waiting_until) as waiting_until,
        count(*) as jobs_waited
    from numbered
    group by cluster, gpu_family, island
)

select * from final
