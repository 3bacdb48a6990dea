-- 回测明细: every past school year's grade-1 and grade-7 intake per district forecast one year
-- ahead from the years before it (ratio method), beside the naive forecast (last year's intake)
-- and the actual census figure.
{%- set z = var('enrollment:interval_z') %}
with points as (
    select
        t.district_code,
        t.school_year,
        t.grade,
        t.students as actual,
        t.base_count * l.ratio_mean as forecast,
        t.base_count * l.ratio_mean * exp(-{{ z }} * l.ratio_pred_rel_sd) as forecast_lower,
        t.base_count * l.ratio_mean * exp({{ z }} * l.ratio_pred_rel_sd) as forecast_upper,
        prev.students as naive_forecast,
        l.window_years
    from {{ ref('int_enrollment__transition_ratios') }} as t
    inner join {{ ref('int_enrollment__learned_ratios') }} as l
        on t.district_code = l.district_code and t.grade = l.grade and t.school_year = l.target_year
    inner join {{ ref('int_enrollment__district_grade_history') }} as prev
        on t.district_code = prev.district_code and t.grade = prev.grade and prev.school_year = t.school_year - 1
    where t.grade in (1, 7) and t.students > 0 and t.base_count > 0
)

select
    p.*,
    dd.district_name,
    abs(p.forecast - p.actual) / p.actual as ape,
    abs(p.naive_forecast - p.actual) / p.actual as naive_ape,
    case when p.forecast_lower is null then null
        when p.actual between p.forecast_lower and p.forecast_upper then true else false
    end as is_in_interval
from points as p
left join {{ ref('dim_district') }} as dd on p.district_code = dd.district_code
