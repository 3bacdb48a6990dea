{#-
  What: the corrected census-day headcounts (fct_enrollment_census) equal the enrolled students in
  fct_enrollment per school, school year and grade — the leadership figure and the detailed fact agree.
  When it matters: after every build; a mismatch means the snapshot missed a correction or the
  census counts were computed from a different population.
  How to resolve: rebuild (`edulake build`); if it persists, compare int_enrollment__census_counts
  with the latest snap_enrollment_census versions for the census_key shown.
-#}
with enrolled as (
    select
        school_year,
        school_id,
        grade,
        count(*) as students
    from {{ ref('fct_enrollment') }}
    where is_enrolled
    group by school_year, school_id, grade
),

census as (
    select
        school_year,
        school_id,
        grade,
        students_as_corrected as students
    from {{ ref('fct_enrollment_census') }}
    where students_as_corrected > 0
)

select
    coalesce(e.school_year, c.school_year) as school_year,
    coalesce(e.school_id, c.school_id) as school_id,
    coalesce(e.grade, c.grade) as grade,
    e.students as enrolled_students,
    c.students as census_students
from enrolled as e
full outer join census as c
    on e.school_year = c.school_year and e.school_id = c.school_id and e.grade = c.grade
where e.students is null or c.students is null or e.students <> c.students
