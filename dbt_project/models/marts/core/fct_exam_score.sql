-- 考试成绩: one row per exam, subject and student.
{{ config(materialized='incremental', unique_key='exam_score_key') }}

with scores as (
    select * from {{ ref('stg_exam__exam_score') }}
    where {{ edulake_changed(schools=ref('stg_reference__school')) }}
),

schools as (select * from {{ ref('int_school__districts') }})

select
    {{ gen_skey('exam_score_key', 'e') }},
    e.exam_id,
    e.subject as subject_code,
    {{ gen_skey('student_key', 'e') }},
    {{ gen_skey('student_xyear_key', 'e') }},
    e.school_year,
    e.term,
    cast(e.grade as integer) as grade,
    e.school_id,
    s.district_code,
    e.score,
    e.full_marks,
    case when e.is_absent then cast(null as double)
        else {{ dbt_utils.safe_divide('cast(e.score as double)', 'e.full_marks') }}
    end as score_rate,
    e.is_absent
from scores as e
left join schools as s on e.school_id = s.school_id
