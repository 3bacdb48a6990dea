-- Entry and progression ratios (cohort survival): grade 1 = students / births six years
-- earlier; grade g ≥ 2 = students / students of grade g−1 the year before (grade 7 from the
-- primary cohort in grade 6). base_count is what the ratio multiplies.
with h as (
    select * from {{ ref('int_enrollment__district_grade_history') }}
),

based as (
    select
        cur.district_code,
        cur.school_year,
        cur.grade,
        cur.students,
        case when cur.grade = 1 then cur.births_6y_before else prev.students end as base_count
    from h as cur
    left join h as prev
        on cur.district_code = prev.district_code
            and prev.school_year = cur.school_year - 1
            and prev.grade = cur.grade - 1
)

select
    district_code,
    school_year,
    grade,
    students,
    base_count,
    {{ dbt_utils.safe_divide('cast(students as double)', 'base_count') }} as ratio
from based
