-- one row per GPU per sample from the canonical columnar form, delivered as files or pulled from Prometheus (the
-- same columns, loaded by the same loader): percent to ratio, MiB to bytes
with files as (
    select * from {{ source('gpu_telemetry', 'gpu_samples') }}
),

pulled as (
    select * from {{ source('gpu_telemetry', 'prometheus_samples') }}
),

source as (
    select * from files
    union all by name
    select * from pulled
),

renamed as (
    select
        hostname as host_id,
        gpu as gpu_index,
        measured_at,
        try_cast(gpu_instance_id as integer) as gpu_instance_id,
        gpu_instance_profile,
        try_cast(gpu_replica as integer) as gpu_replica,
        gpu_uuid,
        model_name as gpu_model,
        gpu_util_pct / 100.0 as gpu_util_pct_ratio,
        gr_engine_active as gr_engine_active_ratio,
        mem_copy_util_pct / 100.0 as mem_copy_util_ratio,
        sm_active as sm_active_ratio,
        tensor_active as tensor_active_ratio,
        dram_active as dram_active_ratio,
        fb_used_mib * 1048576 as fb_used_bytes,
        fb_free_mib * 1048576 as fb_free_bytes,
        fb_reserved_mib * 1048576 as fb_reserved_bytes,
        pcie_tx_bytes_per_s,
        pcie_rx_bytes_per_s,
        power_w,
        gpu_temp_c,
        xid::integer as xid_error,
        hpc_job as hpc_job_id,
        -- pods and namespaces such as jupyter-<user>-0, user-<user> carry the person
        {{ redact_identities('pod') }} as pod_name,
        {{ redact_identities('namespace') }} as pod_namespace
    from source
),

{{ gpu_util_with_fallback('renamed', 'gpu_util_pct_ratio') }}

select * from utilised
