-- Every (student, school year) seen in any feed, with demographics from the best source:
-- the census roster first, then the fitness upload, vision screening, exam scores, status changes.
-- Students missing from the roster still get a row, so every fact joins dim_student.
with roster as (
    select student_token, school_year, sex, birth_month, ethnicity, hukou_district, is_non_beijing, 1 as source_rank
    from {{ ref('stg_enrollment__student_enrollment') }}
),

fitness as (
    select student_token, school_year, sex, birth_month, ethnicity,
           cast(null as {{ dbt.type_string() }}) as hukou_district, cast(null as boolean) as is_non_beijing,
           2 as source_rank
    from {{ ref('stg_health__fitness_test') }}
),

vision as (
    select student_token, school_year, sex, cast(null as date) as birth_month,
           cast(null as {{ dbt.type_string() }}) as ethnicity,
           cast(null as {{ dbt.type_string() }}) as hukou_district, cast(null as boolean) as is_non_beijing,
           3 as source_rank
    from {{ ref('stg_health__vision_screening') }}
),

exam as (
    select student_token, school_year, cast(null as {{ dbt.type_string() }}) as sex, cast(null as date) as birth_month,
           cast(null as {{ dbt.type_string() }}) as ethnicity,
           cast(null as {{ dbt.type_string() }}) as hukou_district, cast(null as boolean) as is_non_beijing,
           4 as source_rank
    from {{ ref('stg_exam__exam_score') }}
),

status_change as (
    select student_token, school_year, cast(null as {{ dbt.type_string() }}) as sex, cast(null as date) as birth_month,
           cast(null as {{ dbt.type_string() }}) as ethnicity,
           cast(null as {{ dbt.type_string() }}) as hukou_district, cast(null as boolean) as is_non_beijing,
           5 as source_rank
    from {{ ref('stg_enrollment__student_status_change') }}
),

seen as (
    select * from roster
    union all select * from fitness
    union all select * from vision
    union all select * from exam
    union all select * from status_change
),

ranked as (
    select
        seen.*,
        row_number() over (partition by student_token, school_year order by source_rank) as best
    from seen
)

select
    {{ edulake_student_key('student_token', 'school_year') }} as student_key,
    {{ edulake_student_xyear_key('student_token') }} as student_xyear_key,
    student_token,
    cast(school_year as integer) as school_year,
    sex,
    birth_month,
    ethnicity,
    hukou_district,
    is_non_beijing,
    source_rank = 1 as is_on_census_roster
from ranked
where best = 1
