{#-
  The share of its physical GPU a MIG instance of profile `<N>g.<M>gb` holds: N compute slices of the board's 7
  (A100, H100, H200, B200), or of 4 on an A30 (pipelines/ingest/rules.py GPU_MODELS, whose MIG_SIZES the loaders
  check profiles against). NULL for a profile that is not one. `model_expr`: the GPU model's name, when known.
-#}
{% macro mig_gpu_share(profile_expr, model_expr=none) -%}
    (try_cast(regexp_extract({{ profile_expr }}, '^([1-8])g\.[0-9]+gb', 1) as integer)
        / {% if model_expr %}(case when regexp_matches({{ model_expr }}, '(?i)\bA30\b') then 4.0 else 7.0 end)
          {%- else %}7.0{% endif %})
{%- endmacro %}
