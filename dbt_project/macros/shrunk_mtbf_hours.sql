{#
  MTBF in hours from a gamma-Poisson posterior: interruptions arrive at a rate with a gamma prior of mean
  1 / prior_mtbf and weight checkpoint_prior_incidents (alpha pseudo-incidents seen in alpha x prior_mtbf hours).
  Posterior mean rate = (n + alpha) / (T + alpha x prior_mtbf); the MTBF returned is its inverse.
  n counts incidents, not attempts: an incident that ended k attempts is one event of evidence, so the exposure
  is scaled by the same incidents / interruptions (the design effect of clustered counts), which keeps the
  observed rate per attempt-hour and gives it the weight of the incidents behind it.
  The posterior is gamma(shape n + alpha, rate T' + alpha x prior_mtbf) = gamma(n + alpha, MTBF x (n + alpha)).
#}
{% macro shrunk_mtbf_hours(held_hours, interruptions, incidents, prior_mtbf_hours) -%}
    ((case when ({{ interruptions }}) > 0 then ({{ held_hours }}) * ({{ incidents }}) / ({{ interruptions }})
        else ({{ held_hours }}) end
        + {{ var('checkpoint_prior_incidents') }} * ({{ prior_mtbf_hours }}))
        / (({{ incidents }}) + {{ var('checkpoint_prior_incidents') }}))
{%- endmacro %}
