-- 体测成绩: one row per student and test year, scored by the 2014 standard.
-- Incremental: the records whose test row or school was loaded since the last build are scored again.
{{ config(materialized='incremental', unique_key='student_key') }}
{%- set tests, schools = ref('stg_health__fitness_test'), ref('stg_reference__school') %}
{%- set changed = ' where record_key in (' ~ edulake_changed_keys('student_key', tests, schools=schools) ~ ')'
                  if edulake_since() is not none else '' %}

{#- the measurements are read twice (the scoring's records, the columns below) as a relation, not as a CTE:
    DuckDB materialises a CTE read twice, 13 M rows for eight school years -#}
{%- set measurements = '(select * from ' ~ ref('int_health__fitness_measurements') ~ changed ~ ')' %}

with item_scores as (select * from {{ ref('int_health__fitness_item_scores') }}{{ changed }}),

scores as (
    {{ fitness_record_scores(measurements ~ ' as scored_measurements', 'item_scores',
                             ref('health_fitness_item_weights'),
                             ref('health_fitness_levels')) }}
)

select
    m.student_key,
    m.student_xyear_key,
    m.school_id,
    m.district_code,
    m.school_year,
    m.grade,
    m.sex,
    s.bmi,
    s.bmi_category,
    s.bmi_score,
    s.lung_score,
    s.run_50m_score,
    s.sit_reach_score,
    s.rope_1min_score,
    s.sit_up_1min_score,
    s.shuttle_50x8_score,
    s.standing_long_jump_score,
    s.pull_up_score,
    s.run_800m_score,
    s.run_1000m_score,
    s.standard_score,
    s.bonus_score,
    s.total_score,
    s.level,
    s.is_complete,
    s.is_low_confidence
from {{ measurements }} as m
inner join scores as s on m.record_key = s.record_key
