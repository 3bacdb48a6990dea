-- 学位缺口: forecast demand (students of 小学 / 初中) per district and school year against the
-- supply of 核定学位 (planned places, fct_school_condition) of the latest reported year, held
-- constant. place_gap > 0 = shortage. The demand bounds add the grades' bounds (a cautious,
-- fully correlated reading).
with demand as (
    select
        district_code,
        school_year,
        stage,
        sum(forecast) as demand,
        sum(forecast_lower) as demand_lower,
        sum(forecast_upper) as demand_upper,
        count(*) as grades_forecast
    from {{ ref('enrollment_demand_forecast') }}
    where stage in ('小学', '初中')
    group by district_code, school_year, stage
),

supply_year as (
    select max(school_year) as supply_year from {{ ref('fct_school_condition') }}
),

supply as (
    select
        c.district_code,
        c.stage,
        max(c.school_year) as supply_year,
        cast(sum(c.planned_places) as bigint) as planned_places
    from {{ ref('fct_school_condition') }} as c
    inner join supply_year as y on c.school_year = y.supply_year
    group by c.district_code, c.stage
)

select
    d.district_code,
    dd.district_name,
    d.school_year,
    d.stage,
    d.grades_forecast,
    round(d.demand, 0) as demand,
    round(d.demand_lower, 0) as demand_lower,
    round(d.demand_upper, 0) as demand_upper,
    s.planned_places,
    s.supply_year,
    round(d.demand - s.planned_places, 0) as place_gap,
    round(d.demand_upper - s.planned_places, 0) as place_gap_upper,
    coalesce(d.demand > s.planned_places, false) as has_shortage,
    -- the first forecast year: gaps of different years must not be summed
    d.school_year = min(d.school_year) over () as is_next_year
from demand as d
left join supply as s on d.district_code = s.district_code and d.stage = s.stage
left join {{ ref('dim_district') }} as dd on d.district_code = dd.district_code
