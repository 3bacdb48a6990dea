-- 体质健康汇总: participation, pass rate, 优良率, overweight and obesity by school, district
-- and city; by grade and sex or all ('全部'); with the year-over-year change.
{%- set measures = ['enrolled', 'tested', 'scored', 'passed', 'excellent_good', 'excellent',
                    'with_bmi', 'overweight', 'obese', 'low_confidence'] %}

with enrolled as (
    select school_year, {{ known_district('district_code') }} as district_code, school_id,
           {{ dbt.safe_cast('grade', dbt.type_string()) }} as grade,
           {{ dbt.safe_cast('sex', dbt.type_string()) }} as sex,
           count(*) as enrolled
    from {{ ref('int_health__enrolled_students') }}
    group by 1, 2, 3, 4, 5
),

tested as (
    select school_year, {{ known_district('district_code') }} as district_code, school_id, grade, sex,
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
    from enrolled e
    full outer join tested t
      on t.school_year = e.school_year and t.school_id = e.school_id
     and t.grade = e.grade and t.sex = e.sex
),

rolled as (
    {{ rollup_counts('finest', measures) }}
),

rated as (
    select r.*,
           {{ safe_rate('tested', 'enrolled') }} as participation_rate,
           {{ safe_rate('passed', 'scored') }} as pass_rate,
           {{ safe_rate('excellent_good', 'scored') }} as excellent_good_rate,
           {{ safe_rate('overweight', 'with_bmi') }} as overweight_rate,
           {{ safe_rate('obese', 'with_bmi') }} as obesity_rate
    from rolled r
)

select
    cur.*,
    cur.pass_rate - prev.pass_rate as pass_rate_yoy,
    cur.excellent_good_rate - prev.excellent_good_rate as excellent_good_rate_yoy,
    cur.overweight_rate - prev.overweight_rate as overweight_rate_yoy,
    cur.obesity_rate - prev.obesity_rate as obesity_rate_yoy,
    cur.participation_rate - prev.participation_rate as participation_rate_yoy
from rated cur
left join rated prev
  on prev.school_year = cur.school_year - 1
 and prev.district_code = cur.district_code and prev.school_id = cur.school_id
 and prev.grade = cur.grade and prev.sex = cur.sex
