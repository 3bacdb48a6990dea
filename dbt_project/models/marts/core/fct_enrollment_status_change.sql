-- 学籍异动事件: one row per change (student, change type, date).
{{ config(materialized='incremental', unique_key='status_change_key') }}

with changes as (
    select * from {{ ref('stg_enrollment__student_status_change') }}
    where {{ edulake_changed(schools=ref('stg_reference__school')) }}
),

schools as (select * from {{ ref('int_school__districts') }}),

types as (
    select
        code,
        name_en
    from {{ ref('ref_status_change_type') }}
)

select
    {{ gen_skey('status_change_key', 'c') }},
    {{ gen_skey('student_key', 'c') }},
    {{ gen_skey('student_xyear_key', 'c') }},
    c.school_year,
    c.change_date,
    c.change_type,
    cast(t.name_en as {{ dbt.type_string() }}) as change_type_en,
    c.school_id,
    c.other_school_id,
    s.district_code
from changes as c
left join schools as s on c.school_id = s.school_id
left join types as t on c.change_type = t.code
