-- 考试成绩: one row per exam, subject and student.
with scores as (select * from {{ ref('stg_exam__exam_score') }}),
schools as (select * from {{ ref('int_school__districts') }})

select
    {{ edulake_key(['e.exam_id', 'e.subject', 'e.student_token']) }} as exam_score_key,
    e.exam_id,
    e.subject as subject_code,
    {{ edulake_student_key('e.student_token', 'e.school_year') }} as student_key,
    {{ edulake_student_xyear_key('e.student_token') }} as student_xyear_key,
    e.school_year,
    e.term,
    cast(e.grade as integer) as grade,
    e.school_id,
    s.district_code,
    e.score,
    e.full_marks,
    case when e.is_absent then cast(null as double)
         else cast(e.score as double) / nullif(e.full_marks, 0) end as score_rate,
    e.is_absent
from scores as e
left join schools as s on s.school_id = e.school_id
