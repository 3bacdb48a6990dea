-- 校际差异系数 per district, school year, 学段 and indicator (student-weighted around the
-- district's aggregate ratio; macro student_weighted_cv), against 小学 0.50 / 初中 0.45.
with cv as (
    {{ student_weighted_cv(ref('int_inspection__school_indicator_inputs'),
                           ['district_code', 'school_year', 'stage', 'indicator_no', 'indicator', 'indicator_cn']) }}
)

select
    cv.district_code,
    dd.district_name,
    cv.school_year,
    cv.stage,
    cv.indicator_no,
    cv.indicator,
    cv.indicator_cn,
    cv.schools,
    cv.total_students,
    cv.district_value,
    cv.cv,
    round(cv.cv, 4) as cv_4dp,
    t.cv_max,
    coalesce(cv.cv <= t.cv_max, false) as is_cv_met
from cv
inner join {{ ref('inspection_cv_thresholds_2017') }} as t on cv.stage = t.stage
left join {{ ref('dim_district') }} as dd on cv.district_code = dd.district_code
