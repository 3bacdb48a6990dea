-- 普查日在籍人数 per district, school year and grade (as corrected), with the births of the
-- cohort's birth year (school year − 6 for grade 1). Births column: var('enrollment:births_measure').
with headcount as (
    select
        district_code,
        school_year,
        cast(grade as integer) as grade,
        cast(sum(students_as_corrected) as bigint) as students
    from {{ ref('fct_enrollment_census') }}
    -- a school missing from the registry has no district to plan places for
    where district_code is not null
    group by district_code, school_year, cast(grade as integer)
)

select
    h.district_code,
    h.school_year,
    h.grade,
    h.students,
    b.{{ var('enrollment:births_measure') }} as births_6y_before
from headcount as h
left join {{ ref('fct_birth') }} as b
    on h.district_code = b.district_code and b.birth_year = h.school_year - 6 and h.grade = 1
