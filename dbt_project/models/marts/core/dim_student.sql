-- 学生维度: one row per student and school year; pseudonymous keys and demographics, no identifiers.
-- Incremental: the students int_student__school_years derived again are replaced.
{{ config(materialized='incremental', unique_key='student_key') }}
{%- do edulake_student_feeds() %}{# the feeds it reads in an incremental build #}

select
    student_key,
    student_xyear_key,
    school_year,
    sex,
    birth_month,
    cast(extract(year from birth_month) as integer) as birth_year,
    ethnicity,
    hukou_district as hukou_district_code,
    is_non_beijing,
    is_on_census_roster
from {{ ref('int_student__school_years') }}
where {{ edulake_student_changed() }}
