{#-
  MIG instances as shares of their physical GPU. A profile `<N>g.<M>gb` ('1g.10gb', '3g.40gb', '1g.10gb+me',
  '1g.5gb') has N compute slices of the board's 7 (A100, H100, H200, B200), or of 4 on an A30: the sizes NVIDIA
  defines are 1, 2, 3, 4 and 7 (pipelines/ingest/rules.py MIG_SIZES, which the telemetry loaders check profiles
  against per GPU model). One definition for the Kubernetes MIG resources (nvidia.com/mig-<profile>) and the
  telemetry's GPU_I_PROFILE; anything else is NULL: its share is not known, never guessed.
-#}
{% macro mig_slices(profile_expr) -%}
    case
        when try_cast(regexp_extract({{ profile_expr }}, '^([0-9]+)g\.[0-9]+gb([+-][a-z0-9]+)*$', 1) as integer)
            in (1, 2, 3, 4, 7)
            then try_cast(regexp_extract({{ profile_expr }}, '^([0-9]+)g\.', 1) as integer)
    end
{%- endmacro %}

{% macro mig_board_slices(model_expr) -%}
    (case when regexp_matches({{ model_expr }}, '(?i)\bA30\b') then 4 else 7 end)
{%- endmacro %}

{#- The share of its GPU an instance of the profile holds (NULL: not a profile); `model_expr`: the GPU's model,
    when known (else a board of 7 slices) -#}
{% macro mig_gpu_share(profile_expr, model_expr=none) -%}
    ({{ mig_slices(profile_expr) }} / {{ mig_board_slices(model_expr) if model_expr else 7 }}::double)
{%- endmacro %}
