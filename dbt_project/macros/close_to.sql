{#
  Two sums of the same money or hours agree: within a millionth of a unit, or one part in a billion of their size
  (a week of a 10,000-GPU fleet is a $5M bill summed over 1.7 million GPU-hours in floating point).
#}
{% macro close_to(a, b) -%}
    (abs(({{ a }}) - ({{ b }})) <= 1e-6 + 1e-9 * greatest(abs({{ a }}), abs({{ b }})))
{%- endmacro %}
