/*
What: no cockpit figure is published from fewer students than var('cockpit:min_cell_size'): rates
  whose denominator, and student counts whose value, is below the size must be null and flagged.
When it matters: the cockpit is shown beyond the commission; a rate over a handful of students can
  identify them (small-cell disclosure).
How to resolve: the rows listed are published although small; check the kind of the KPI in seed
  cockpit_kpi_definitions (rate / count_of_students) and the suppression rule in cockpit_kpis.
*/
select k.*
from {{ ref('cockpit_kpis') }} as k
where not k.is_suppressed
    and (
        (k.kind = 'rate' and k.denominator < {{ var('cockpit:min_cell_size') }})
        or (k.kind = 'count_of_students' and k.value < {{ var('cockpit:min_cell_size') }})
    )
