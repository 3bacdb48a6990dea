-- 视力不良（近视筛查）: share of screened students whose worse eye's uncorrected visual acuity
-- is below var('health:myopia:threshold') (5分记录, default 5.0), by school / district / city,
-- grade and sex, with the year-over-year change.
{%- set measures = ['screened', 'poor_vision', 'wears_glasses'] %}

with finest as (
    select school_year, {{ known_district('district_code') }} as district_code, school_id,
           {{ dbt.safe_cast('grade', dbt.type_string()) }} as grade,
           {{ dbt.safe_cast('sex', dbt.type_string()) }} as sex,
           count(*) as screened,
           sum(case when worse_eye_va < {{ var('health:myopia:threshold') }} then 1 else 0 end) as poor_vision,
           sum(case when wears_glasses then 1 else 0 end) as wears_glasses
    from {{ ref('fct_vision_screening') }}
    group by 1, 2, 3, 4, 5
),

rolled as (
    {{ rollup_counts('finest', measures) }}
),

rated as (
    select r.*,
           {{ safe_rate('poor_vision', 'screened') }} as myopia_rate,
           cast({{ var('health:myopia:threshold') }} as double) as va_threshold
    from rolled r
)

select cur.*, cur.myopia_rate - prev.myopia_rate as myopia_rate_yoy
from rated cur
left join rated prev
  on prev.school_year = cur.school_year - 1
 and prev.district_code = cur.district_code and prev.school_id = cur.school_id
 and prev.grade = cur.grade and prev.sex = cur.sex
