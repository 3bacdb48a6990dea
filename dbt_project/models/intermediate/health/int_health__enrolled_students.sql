-- Students on the roll on census day, per school year: the denominator of participation.
select
    e.student_key,
    e.school_id,
    e.district_code,
    e.school_year,
    e.grade,
    e.sex
from {{ ref('fct_enrollment') }} as e
where e.is_enrolled
