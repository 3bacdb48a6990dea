-- 学校 7 项资源配置指标: each school's value per 学段 and year against the 2017 threshold.
select
    i.school_id,
    i.district_code,
    dd.district_name,
    school_year,
    stage,
    students,
    indicator_no,
    indicator,
    indicator_cn,
    unit,
    threshold,
    case when students > 0 then numerator / students end as indicator_value,
    case when students > 0 and numerator / students >= threshold then true else false end as is_met,
    -- share of the requirement reached, for the "余项不低于标准的85%" rule
    case when students > 0 and threshold > 0 then numerator / students / threshold end as share_of_threshold
from {{ ref('int_inspection__school_indicator_inputs') }} as i
left join {{ ref('dim_district') }} as dd on i.district_code = dd.district_code
