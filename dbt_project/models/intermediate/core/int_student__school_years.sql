-- Every (student, school year) seen in any feed, with demographics from the best source:
-- the census roster first, then the fitness upload, vision screening, exam scores, status changes.
-- Students missing from the roster still get a row, so every fact joins dim_student.
-- Incremental: every school year of a student seen in any feed since the last build is derived again.
{{ config(materialized='incremental', unique_key='student_key') }}
{%- set feeds = edulake_student_feeds() %}

with
{%- if edulake_since() is not none %}

-- incremental: the students seen in any feed since the last build, found once for the five filters below
changed_students as (
    {{ edulake_changed_students() }}
),
{%- endif %}

-- seen: columns a feed lacks come out NULL
seen as (
    {{ dbt_utils.union_relations(
        relations=feeds,
        include=['student_token', 'school_year', 'sex', 'birth_month', 'ethnicity', 'hukou_district',
                 'is_non_beijing'],
        where=edulake_student_changed(changed='changed_students')) }}
),

ranked as (
    select
        seen.*,
        case seen._dbt_source_relation
            {%- for feed in feeds %}
                when '{{ feed }}' then {{ loop.index }}
            {%- endfor %}
        end as source_rank
    from seen
),

best as (
    select
        ranked.*,
        row_number()
            over (partition by ranked.student_token, ranked.school_year order by ranked.source_rank)
            as best_rank
    from ranked
)

select
    {{ gen_skey('student_key') }},
    {{ gen_skey('student_xyear_key') }},
    student_token,
    cast(school_year as integer) as school_year,
    sex,
    birth_month,
    ethnicity,
    hukou_district,
    is_non_beijing,
    source_rank = 1 as is_on_census_roster
from best
where best_rank = 1
