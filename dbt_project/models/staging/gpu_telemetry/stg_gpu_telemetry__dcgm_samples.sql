-- one row per GPU per scrape: the long exposition pivoted, units made canonical
with source as (
    select * from {{ source('gpu_telemetry', 'dcgm_samples') }}
),

-- the unit the exporter stated in HELP decides the conversion: percent (or unstated) / 100, a ratio as is;
-- MiB (or unstated) x 1048576, bytes as is
normalised as (
    select
        *,
        case
            when regexp_matches(metric, '^DCGM_FI_DEV_(GPU|MEM_COPY)_UTIL$') and unit = 'ratio' then value
            when regexp_matches(metric, '^DCGM_FI_DEV_(GPU|MEM_COPY)_UTIL$') then value / 100.0
            when regexp_matches(metric, '^DCGM_FI_DEV_FB_(USED|FREE|RESERVED)$') and unit in ('B', 'bytes') then value
            when regexp_matches(metric, '^DCGM_FI_DEV_FB_(USED|FREE|RESERVED)$') then value * 1048576
            else value
        end as canonical_value
    from source
),

pivoted as (
    select
        hostname as host_id,
        gpu as gpu_index,
        scraped_at as measured_at,
        -- a MIG instance of the GPU (NULL: the whole GPU)
        try_cast(gpu_instance_id as integer) as gpu_instance_id,
        max(gpu_instance_profile) as gpu_instance_profile,
        -- a time-sliced GPU's replica (dcgm-exporter's vgpu label; NULL: not time-sliced, or not told)
        try_cast(gpu_replica as integer) as gpu_replica,
        max(gpu_uuid) as gpu_uuid,
        max(model_name) as gpu_model,
        max(canonical_value) filter (where metric = 'DCGM_FI_DEV_GPU_UTIL') as gpu_util_pct_ratio,
        max(value) filter (where metric = 'DCGM_FI_PROF_GR_ENGINE_ACTIVE') as gr_engine_active_ratio,
        max(canonical_value) filter (where metric = 'DCGM_FI_DEV_MEM_COPY_UTIL') as mem_copy_util_ratio,
        max(value) filter (where metric = 'DCGM_FI_PROF_SM_ACTIVE') as sm_active_ratio,
        max(value) filter (where metric = 'DCGM_FI_PROF_PIPE_TENSOR_ACTIVE') as tensor_active_ratio,
        max(value) filter (where metric = 'DCGM_FI_PROF_DRAM_ACTIVE') as dram_active_ratio,
        max(canonical_value) filter (where metric = 'DCGM_FI_DEV_FB_USED') as fb_used_bytes,
        max(canonical_value) filter (where metric = 'DCGM_FI_DEV_FB_FREE') as fb_free_bytes,
        max(canonical_value) filter (where metric = 'DCGM_FI_DEV_FB_RESERVED') as fb_reserved_bytes,
        max(value) filter (where metric = 'DCGM_FI_PROF_PCIE_TX_BYTES') as pcie_tx_bytes_per_s,
        max(value) filter (where metric = 'DCGM_FI_PROF_PCIE_RX_BYTES') as pcie_rx_bytes_per_s,
        max(value) filter (where metric = 'DCGM_FI_DEV_POWER_USAGE') as power_w,
        max(value) filter (where metric = 'DCGM_FI_DEV_GPU_TEMP') as gpu_temp_c,
        max(value) filter (where metric = 'DCGM_FI_DEV_XID_ERRORS')::integer as xid_error,
        max(nullif(hpc_job, '')) as hpc_job_id,
        max(nullif(pod, '')) as pod_name,
        max(nullif(namespace, '')) as pod_namespace
    from normalised
    where gpu is not null
    group by hostname, gpu, scraped_at, try_cast(gpu_instance_id as integer), try_cast(gpu_replica as integer)
),

{{ gpu_util_with_fallback('pivoted', 'gpu_util_pct_ratio') }},

-- pods and namespaces such as jupyter-<user>-0, user-<user> carry the person
redacted as (
    select
        * replace (
            {{ redact_identities('pod_name') }} as pod_name,
            {{ redact_identities('pod_namespace') }} as pod_namespace
        )
    from utilised
)

select * from redacted
