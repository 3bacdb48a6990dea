-- Test records in the shape the scoring macros read: one row per student and test year,
-- grade as the standard's code ('1'..'12'), sex '1'/'2', raw measurements (silver names).
-- A view: a projection of fct_fitness_test, read by the scoring models for all or only changed records.
{{ config(materialized='view') }}

select
    student_key as record_key,
    student_key,
    student_xyear_key,
    school_id,
    district_code,
    school_year,
    {{ dbt.safe_cast('grade', dbt.type_string()) }} as grade,
    {{ dbt.safe_cast('sex', dbt.type_string()) }} as sex,
    height_cm,
    weight_kg,
    lung_ml,
    run_50m_s,
    sit_reach_cm,
    rope_1min,
    sit_up_1min,
    shuttle_50x8_s,
    standing_long_jump_cm,
    pull_up,
    run_800m_s,
    run_1000m_s
from {{ ref('fct_fitness_test') }}
