{#- The share of a physical GPU a MIG instance holds, from its profile ('1g.10gb', '3g.40gb', '1g.10gb+me',
    '1g.5gb'): N compute slices of the GPU's 7, N/7.0, for the profiles NVIDIA defines (N = 1, 2, 3, 4, 7); NULL
    for anything else (an unknown or malformed profile: its share is not known, never guessed). One definition,
    for the Kubernetes MIG resources (nvidia.com/mig-<profile>) and the telemetry's GPU_I_PROFILE. -#}
{% macro mig_gpu_share(profile_expr) -%}
    case
        when try_cast(regexp_extract({{ profile_expr }}, '^([0-9]+)g\.[0-9]+gb(\+[a-z0-9]+)*$', 1) as integer)
            in (1, 2, 3, 4, 7)
            then try_cast(regexp_extract({{ profile_expr }}, '^([0-9]+)g\.', 1) as integer) / 7.0
    end
{%- endmacro %}
