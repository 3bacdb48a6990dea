-- 日期维度: one row per day; the school year starts on 1 September (2024 = 2024-2025 学年).
{%- set first_day = edulake_date("'" ~ var('core:date_start') ~ "'") %}
{%- set end_day = edulake_date("'" ~ var('core:date_end') ~ "'") %}
with days as (
    {{ dbt.date_spine('day', first_day, end_day) }}
),

parts as (
    select
        cast(date_day as date) as date_day,
        cast(extract(year from date_day) as integer) as calendar_year,
        cast(extract(month from date_day) as integer) as calendar_month,
        cast(extract(day from date_day) as integer) as day_of_month
    from days
),

school_years as (
    select
        *,
        case when calendar_month >= 9 then calendar_year else calendar_year - 1 end as school_year,
        case when calendar_month >= 9 or calendar_month = 1 then 1 else 2 end as term
    from parts
)

select
    date_day,
    calendar_year,
    calendar_month,
    day_of_month,
    cast(school_year as integer) as school_year,
    cast(term as integer) as term,
    date_day = {{ edulake_census_date('school_year') }} as is_census_day
from school_years
