-- 学校 7 项资源配置指标: each school's value per 学段 and year against the 2017 threshold.
select
    i.school_id,
    i.district_code,
    dd.district_name,
    i.school_year,
    i.stage,
    i.students,
    i.indicator_no,
    i.indicator,
    i.indicator_cn,
    i.unit,
    i.threshold,
    {{ dbt_utils.safe_divide('i.numerator', 'i.students') }} as indicator_value,
    coalesce(i.students > 0 and i.numerator / i.students >= i.threshold, false) as is_met,
    -- share of the requirement reached, for the "余项不低于标准的85%" rule
    case when i.students > 0 and i.threshold > 0 then i.numerator / i.students / i.threshold end as share_of_threshold
from {{ ref('int_inspection__school_indicator_inputs') }} as i
left join {{ ref('dim_district') }} as dd on i.district_code = dd.district_code
