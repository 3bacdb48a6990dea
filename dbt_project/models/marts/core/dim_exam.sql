-- 考试维度: one row per exam id (the score export repeats the exam's attributes on every row).
with scores as (select * from {{ ref('stg_exam__exam_score') }}),

exam_types as (
    select
        code,
        name_en
    from {{ ref('ref_exam_type') }}
),

exams as (
    select
        exam_id,
        max(exam_name) as exam_name,
        max(exam_type) as exam_type,
        max(school_year) as school_year,
        max(term) as term,
        max(cast(grade as integer)) as grade
    from scores
    group by exam_id
)

select
    e.exam_id,
    e.exam_name,
    e.exam_type,
    cast(t.name_en as {{ dbt.type_string() }}) as exam_type_en,
    cast(e.school_year as integer) as school_year,
    cast(e.term as integer) as term,
    cast(e.grade as integer) as grade
from exams as e
left join exam_types as t on e.exam_type = t.code
