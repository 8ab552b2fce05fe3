{#- What the rows up to and including this one take of `amount` when each row takes its weight's share:
    amount x weight_through / weight_total, rounded to `scale` decimals (the last row, whose weight_through is the
    total, takes the amount itself). A row's own share is this less the same for the rows before it, so the
    shares add up to the amount exactly, however each one rounds. -#}
{% macro cumulative_share(amount, weight_through, weight_total, scale) -%}
    (case
        when ({{ weight_through }}) = ({{ weight_total }}) then ({{ amount }})
        else round(({{ amount }}) * ({{ weight_through }}) / ({{ weight_total }}), {{ scale }})
    end)::decimal(18, {{ scale }})
{%- endmacro %}
