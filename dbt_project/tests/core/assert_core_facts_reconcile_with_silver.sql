{#-
  What: every core fact holds exactly one row per row of its silver table (silver is merged on the
  natural key, so staging's deduplication must not drop anything and no join may fan out).
  When it matters: always — a mismatch means figures in the marts and cockpit do not add up to
  what the lake accepted (reconciliation: received = accepted + quarantined + collapsed).
  How to resolve: the row names the fact; compare its key columns with the source's natural key
  (meta.natural_key in _silver__sources.yml) and look for duplicated join keys in the dimension it joins.
-#}
{% set pairs = [
    ('fct_enrollment', 'student_enrollment'),
    ('fct_enrollment_status_change', 'student_status_change'),
    ('fct_fitness_test', 'fitness_test'),
    ('fct_vision_screening', 'vision_screening'),
    ('fct_exam_score', 'exam_score'),
    ('fct_school_condition', 'school_condition'),
    ('fct_birth', 'birth'),
] %}
with counts as (
    {% for fact, entity in pairs %}
        select
            '{{ fact }}' as fact,
            (select count(*) from {{ ref(fact) }}) as fact_rows,
            (select count(*) from {{ source('silver', entity) }}) as silver_rows
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
)

select * from counts
where fact_rows <> silver_rows
