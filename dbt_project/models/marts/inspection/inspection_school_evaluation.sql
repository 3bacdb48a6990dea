-- 学校达标判定: a school passes the resource dimension when at least
-- var('inspection:min_indicators_met') (6) of the 7 indicators are met and — when
-- var('inspection:remaining_floor_share') is set (default 0.85, a documented reading; set it to
-- none to drop the clause) — every unmet indicator reaches that share of its threshold.
with per_school as (
    select
        school_id,
        district_code,
        school_year,
        stage,
        max(students) as students,
        count(*) as indicators,
        cast(sum(case when is_met then 1 else 0 end) as bigint) as indicators_met,
        min(case when not is_met then share_of_threshold end) as lowest_unmet_share
    from {{ ref('inspection_school_indicators') }}
    group by school_id, district_code, school_year, stage
),

unmet as (
    select
        school_id,
        school_year,
        stage,
        {{ dbt.listagg('indicator_cn', "'、'", 'order by indicator_no') }} as unmet_indicators
    from {{ ref('inspection_school_indicators') }}
    where not is_met
    group by school_id, school_year, stage
)

{%- set floor_share = var('inspection:remaining_floor_share') %}

select
    p.school_id,
    s.school_name,
    p.district_code,
    dd.district_name,
    p.school_year,
    p.stage,
    p.students,
    p.indicators,
    p.indicators_met,
    p.lowest_unmet_share,
    u.unmet_indicators,
    case when p.indicators_met >= {{ var('inspection:min_indicators_met') }}
            {%- if floor_share is not none %}
                and (p.lowest_unmet_share is null or p.lowest_unmet_share >= {{ floor_share }})
            {%- endif %}
            then true
        else false
    end as is_passing
from per_school as p
left join unmet as u on p.school_id = u.school_id and p.school_year = u.school_year and p.stage = u.stage
left join {{ ref('dim_school') }} as s on p.school_id = s.school_id
left join {{ ref('dim_district') }} as dd on p.district_code = dd.district_code
