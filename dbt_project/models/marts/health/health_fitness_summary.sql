-- 体质健康汇总: participation, pass rate, 优良率, overweight and obesity by school, district
-- and city; by grade and sex or all of them (grouping_level); with the year-over-year change.
-- The rates are defined here once: readers (cockpit, Superset) read them, never re-derive them.
{%- set measures = ['enrolled', 'tested', 'scored', 'passed', 'excellent_good', 'excellent',
                    'with_bmi', 'overweight', 'obese', 'low_confidence'] %}

with enrolled as (
    select
        school_year,
        {{ known_district('district_code') }} as district_code,
        school_id,
        grade,
        sex,
        count(*) as enrolled
    from {{ ref('int_health__enrolled_students') }}
    group by 1, 2, 3, 4, 5
),

tested as (
    select
        school_year,
        {{ known_district('district_code') }} as district_code,
        school_id,
        cast(grade as integer) as grade,
        sex,
        count(*) as tested,
        sum(case when total_score is not null then 1 else 0 end) as scored,
        sum(case when level in ('优秀', '良好', '及格') then 1 else 0 end) as passed,
        sum(case when level in ('优秀', '良好') then 1 else 0 end) as excellent_good,
        sum(case when level = '优秀' then 1 else 0 end) as excellent,
        sum(case when bmi_category is not null then 1 else 0 end) as with_bmi,
        sum(case when bmi_category = '超重' then 1 else 0 end) as overweight,
        sum(case when bmi_category = '肥胖' then 1 else 0 end) as obese,
        sum(case when is_low_confidence then 1 else 0 end) as low_confidence
    from {{ ref('health_fitness_scores') }}
    group by 1, 2, 3, 4, 5
),

finest as (
    select
        coalesce(e.school_year, t.school_year) as school_year,
        coalesce(e.district_code, t.district_code) as district_code,
        coalesce(e.school_id, t.school_id) as school_id,
        coalesce(e.grade, t.grade) as grade,
        coalesce(e.sex, t.sex) as sex,
        coalesce(e.enrolled, 0) as enrolled,
        {%- for m in measures[1:] %}
            coalesce(t.{{ m }}, 0) as {{ m }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from enrolled as e
    full outer join tested as t
        on
            e.school_year = t.school_year and e.school_id = t.school_id
            and e.grade = t.grade and e.sex = t.sex
),

rolled as (
    {{ rollup_counts('finest', measures) }}
),

rated as (
    select
        r.*,
        {{ dbt_utils.safe_divide('cast(r.tested as double)', 'r.enrolled') }} as participation_rate,
        {{ dbt_utils.safe_divide('cast(r.passed as double)', 'r.scored') }} as pass_rate,
        {{ dbt_utils.safe_divide('cast(r.excellent_good as double)', 'r.scored') }} as excellent_good_rate,
        {{ dbt_utils.safe_divide('cast(r.overweight as double)', 'r.with_bmi') }} as overweight_rate,
        {{ dbt_utils.safe_divide('cast(r.obese as double)', 'r.with_bmi') }} as obesity_rate
    from rolled as r
)

select
    cur.*,
    {{ district_name('cur.district_code', "cur.grouping_level like 'city%'") }} as district_name,
    cur.pass_rate - prev.pass_rate as pass_rate_yoy,
    cur.excellent_good_rate - prev.excellent_good_rate as excellent_good_rate_yoy,
    cur.overweight_rate - prev.overweight_rate as overweight_rate_yoy,
    cur.obesity_rate - prev.obesity_rate as obesity_rate_yoy,
    cur.participation_rate - prev.participation_rate as participation_rate_yoy
from rated as cur
left join rated as prev on {{ previous_year_join('cur', 'prev') }}
left join {{ ref('dim_district') }} as dd on cur.district_code = dd.district_code
