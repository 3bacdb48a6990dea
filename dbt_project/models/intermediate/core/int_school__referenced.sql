-- Every school id any feed refers to, with the feeds that do. Ids missing from the registry become
-- inferred members of dim_school (is_in_registry = false) so facts keep referential integrity and the
-- gap stays visible (singular test assert_facts_reference_registered_schools).
{% set feeds = [
    ('stg_enrollment__student_enrollment', 'school_id'),
    ('stg_enrollment__student_status_change', 'school_id'),
    ('stg_health__fitness_test', 'school_id'),
    ('stg_health__vision_screening', 'school_id'),
    ('stg_exam__exam_score', 'school_id'),
    ('stg_facility__school_condition', 'school_id'),
] %}
with referenced as (
    {% for model, column in feeds %}
        select distinct
            {{ column }},
            '{{ model }}' as referenced_by
        from {{ ref(model) }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
)

select
    school_id,
    min(referenced_by) as first_referenced_by,
    count(*) as feeds
from referenced
where school_id is not null
group by school_id
