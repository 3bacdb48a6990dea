-- 学位预测回测: MAPE of the ratio method and of the naive baseline (last year's intake), for
-- grade 1 and grade 7, per district and for the city (districts summed before the error is
-- taken), with the share of actuals inside the prediction interval. WAPE (Σ|error| / Σ actual)
-- sits beside MAPE: with small districts' intakes of a few pupils, MAPE is dominated by the
-- counting noise of those few cells.
with points as (
    select * from {{ ref('enrollment_intake_backtest_points') }}
),

city_points as (
    select
        school_year,
        grade,
        sum(actual) as actual,
        sum(forecast) as forecast,
        sum(naive_forecast) as naive_forecast
    from points
    group by school_year, grade
),

district_level as (
    select
        'district' as grouping_level,
        district_code,
        grade,
        count(*) as points,
        count(distinct school_year) as years,
        avg(ape) as mape,
        avg(naive_ape) as naive_mape,
        sum(abs(forecast - actual)) / sum(actual) as wape,
        sum(abs(naive_forecast - actual)) / sum(actual) as naive_wape,
        -- doubles, not 1.0/0.0: Spark averages decimals to 5 places (DuckDB to a double)
        avg(case when is_in_interval then cast(1 as double) when not is_in_interval then cast(0 as double) end)
            as interval_coverage
    from points
    group by district_code, grade
),

district_overall as (
    select
        'district_all' as grouping_level,
        cast(null as {{ dbt.type_string() }}) as district_code,
        grade,
        count(*) as points,
        count(distinct school_year) as years,
        avg(ape) as mape,
        avg(naive_ape) as naive_mape,
        sum(abs(forecast - actual)) / sum(actual) as wape,
        sum(abs(naive_forecast - actual)) / sum(actual) as naive_wape,
        -- doubles, not 1.0/0.0: Spark averages decimals to 5 places (DuckDB to a double)
        avg(case when is_in_interval then cast(1 as double) when not is_in_interval then cast(0 as double) end)
            as interval_coverage
    from points
    group by grade
),

city_level as (
    select
        'city' as grouping_level,
        cast(null as {{ dbt.type_string() }}) as district_code,
        grade,
        count(*) as points,
        count(distinct school_year) as years,
        avg(abs(forecast - actual) / actual) as mape,
        avg(abs(naive_forecast - actual) / actual) as naive_mape,
        sum(abs(forecast - actual)) / sum(actual) as wape,
        sum(abs(naive_forecast - actual)) / sum(actual) as naive_wape,
        cast(null as double) as interval_coverage
    from city_points
    group by grade
),

unioned as (
    select * from district_level
    union all
    select * from district_overall
    union all
    select * from city_level
)

select
    u.*,
    {{ district_name('u.district_code', "u.grouping_level <> 'district'") }} as district_name,
    coalesce(u.mape < u.naive_mape, false) as beats_naive,
    coalesce(u.wape < u.naive_wape, false) as beats_naive_wape,
    {{ var('enrollment:ratio_window') }} as ratio_window
from unioned as u
left join {{ ref('dim_district') }} as dd on u.district_code = dd.district_code
