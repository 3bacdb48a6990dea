-- 视力筛查: one row per student and screening date.
{{ config(materialized='incremental', unique_key='vision_screening_key') }}

with screenings as (
    select * from {{ ref('stg_health__vision_screening') }}
    where {{ edulake_changed(schools=ref('stg_reference__school')) }}
),

schools as (select * from {{ ref('int_school__districts') }})

select
    {{ gen_skey('vision_screening_key', 'v') }},
    {{ gen_skey('student_key', 'v') }},
    {{ gen_skey('student_xyear_key', 'v') }},
    v.school_year,
    v.screening_date,
    v.school_id,
    s.district_code,
    cast(v.grade as integer) as grade,
    v.sex,
    v.left_uncorrected_va,
    v.right_uncorrected_va,
    case when v.left_uncorrected_va <= v.right_uncorrected_va then v.left_uncorrected_va
        else coalesce(v.right_uncorrected_va, v.left_uncorrected_va)
    end as worse_eye_va,
    v.wears_glasses
from screenings as v
left join schools as s on v.school_id = s.school_id
