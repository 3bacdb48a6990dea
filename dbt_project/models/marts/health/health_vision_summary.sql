-- 视力不良 (see doc block health_poor_vision): share of screened students whose worse eye's
-- uncorrected visual acuity is below var('health:poor_vision:threshold') (5分记录, default 5.0),
-- by school / district / city, grade and sex (grouping_level), with the year-over-year change.
{%- set measures = ['screened', 'poor_vision', 'wears_glasses'] %}
{%- set threshold = var('health:poor_vision:threshold') %}

with finest as (
    select
        school_year,
        {{ known_district('district_code') }} as district_code,
        school_id,
        grade,
        sex,
        count(*) as screened,
        sum(case when worse_eye_va < {{ threshold }} then 1 else 0 end) as poor_vision,
        sum(case when wears_glasses then 1 else 0 end) as wears_glasses
    from {{ ref('fct_vision_screening') }}
    group by 1, 2, 3, 4, 5
),

rolled as (
    {{ rollup_counts('finest', measures) }}
),

rated as (
    select
        r.*,
        {{ dbt_utils.safe_divide('cast(r.poor_vision as double)', 'r.screened') }} as poor_vision_rate,
        cast({{ threshold }} as double) as va_threshold
    from rolled as r
)

select
    cur.*,
    {{ district_name('cur.district_code', "cur.grouping_level like 'city%'") }} as district_name,
    cur.poor_vision_rate - prev.poor_vision_rate as poor_vision_rate_yoy
from rated as cur
left join rated as prev on {{ previous_year_join('cur', 'prev') }}
left join {{ ref('dim_district') }} as dd on cur.district_code = dd.district_code
