{#
  Quantile of a chi-square distribution with df degrees of freedom at the normal quantile z, by the
  Wilson-Hilferty approximation (within ~2% of the exact value for df >= 4, which a gamma posterior with
  checkpoint_prior_incidents >= 2 guarantees; DuckDB has no gamma quantile function). A gamma(shape a, rate b)
  quantile is chi2_quantile(2a, z) / (2b).
#}
{% macro chi2_quantile(df, z) -%}
    (({{ df }}) * pow(greatest(1 - 2 / (9 * ({{ df }})) + ({{ z }}) * sqrt(2 / (9 * ({{ df }}))), 0), 3))
{%- endmacro %}
