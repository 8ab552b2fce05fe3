{#-
  MIG instances as shares of their physical GPU. A profile `<N>g.<M>gb` has N compute slices of the board's 7
  (A100, H100, H200, B200), or of 4 on an A30: pipelines/ingest/rules.py GPU_MODELS, whose MIG_SIZES the loaders
  check every profile against, so a profile that reaches the models is one its board has.
-#}
{% macro mig_slices(profile_expr) -%}
    try_cast(regexp_extract({{ profile_expr }}, '^([1-8])g\.[0-9]+gb', 1) as integer)
{%- endmacro %}

{% macro mig_board_slices(model_expr) -%}
    (case when regexp_matches({{ model_expr }}, '(?i)\bA30\b') then 4 else 7 end)
{%- endmacro %}

{#- The share of its GPU an instance of the profile holds (NULL: not a profile); `model_expr`: the GPU's model,
    when known (else a board of 7 slices) -#}
{% macro mig_gpu_share(profile_expr, model_expr=none) -%}
    ({{ mig_slices(profile_expr) }} / {{ mig_board_slices(model_expr) if model_expr else 7 }}::double)
{%- endmacro %}
