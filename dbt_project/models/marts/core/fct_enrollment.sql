-- 学籍普查日快照: one row per student and school year from the census roster.
{{ config(materialized='incremental', unique_key='student_key') }}

with roster as (
    select * from {{ ref('stg_enrollment__student_enrollment') }}
    where {{ edulake_changed(schools=ref('stg_reference__school')) }}
),

schools as (select * from {{ ref('int_school__districts') }}),

statuses as (
    select
        code,
        is_enrolled
    from {{ ref('ref_enrollment_status') }}
)

select
    {{ gen_skey('student_key', 'r') }},
    {{ gen_skey('student_xyear_key', 'r') }},
    r.school_year,
    {{ edulake_census_date('r.school_year') }} as census_date,
    r.school_id,
    s.district_code,
    r.stage,
    cast(r.grade as integer) as grade,
    r.class_name,
    r.status,
    coalesce(st.is_enrolled = 'true', false) as is_enrolled,
    r.sex,
    r.is_non_beijing
from roster as r
left join schools as s on r.school_id = s.school_id
left join statuses as st on r.status = st.code
