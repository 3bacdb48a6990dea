-- 体质健康测试: one row per student and test year (so student_key is its key), raw measurements
-- under their silver names.
{{ config(materialized='incremental', unique_key='student_key') }}

with tests as (
    select * from {{ ref('stg_health__fitness_test') }}
    where {{ edulake_changed(schools=ref('stg_reference__school')) }}
),

schools as (select * from {{ ref('int_school__districts') }})

select
    {{ gen_skey('student_key', 't') }},
    {{ gen_skey('student_xyear_key', 't') }},
    t.school_year,
    t.test_date,
    t.school_id,
    s.district_code,
    cast(t.grade as integer) as grade,
    t.sex,
    t.height_cm,
    t.weight_kg,
    t.lung_ml,
    t.run_50m_s,
    t.sit_reach_cm,
    t.rope_1min,
    t.sit_up_1min,
    t.shuttle_50x8_s,
    t.standing_long_jump_cm,
    t.pull_up,
    t.run_800m_s,
    t.run_1000m_s,
    t.has_warnings
from tests as t
left join schools as s on t.school_id = s.school_id
