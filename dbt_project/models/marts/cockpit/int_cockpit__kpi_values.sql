-- Every headline figure of the cockpit, unsuppressed, per school year for each district and
-- for the city: one row per (scope, district, year, kpi) with numerator and denominator, so
-- each figure can be reconciled to the core facts it is counted from.
with enrolled as (
    select school_year, {{ known_district('district_code') }} as district_code, stage, count(*) as students
    from {{ ref('fct_enrollment') }}
    where is_enrolled
    group by 1, 2, 3
),

conditions as (
    select school_year, {{ known_district('district_code') }} as district_code,
           sum(students) as students, sum(full_time_teachers) as teachers
    from {{ ref('fct_school_condition') }}
    group by 1, 2
),

schools as (
    select school_year, {{ known_district('district_code') }} as district_code, count(distinct school_id) as schools
    from {{ ref('fct_enrollment') }}
    where is_enrolled
    group by 1, 2
),

-- (scope, district_code, school_year, kpi, numerator, denominator)
district_counts as (
    {%- for stage, kpi in [('小学', 'students_primary'), ('初中', 'students_junior_secondary'), ('高中', 'students_senior_secondary')] %}
    select school_year, district_code, '{{ kpi }}' as kpi, cast(students as double) as numerator,
           cast(null as double) as denominator
    from enrolled where stage = '{{ stage }}'
    union all
    {%- endfor %}
    select school_year, district_code, 'students_total', cast(sum(students) as double), cast(null as double)
    from enrolled group by school_year, district_code
    union all
    select school_year, district_code, 'schools', cast(schools as double), cast(null as double) from schools
    union all
    select school_year, district_code, 'teachers', cast(teachers as double), cast(null as double) from conditions
    union all
    -- ratio KPIs keep numerator and denominator so the city figure is the ratio of sums
    select school_year, district_code, 'student_teacher_ratio', cast(students as double), cast(teachers as double)
    from conditions
),

city_counts as (
    select school_year, '全部' as district_code, kpi, sum(numerator) as numerator, sum(denominator) as denominator
    from district_counts
    group by school_year, kpi
),

health as (
    select school_year, district_code, 'fitness_pass_rate' as kpi,
           cast(passed as double) as numerator, cast(scored as double) as denominator
    from {{ ref('health_fitness_summary') }}
    where scope in ('district', 'city') and grade = '全部' and sex = '全部'
    union all
    select school_year, district_code, 'fitness_excellent_good_rate',
           cast(excellent_good as double), cast(scored as double)
    from {{ ref('health_fitness_summary') }}
    where scope in ('district', 'city') and grade = '全部' and sex = '全部'
    union all
    select school_year, district_code, 'obesity_rate', cast(obese as double), cast(with_bmi as double)
    from {{ ref('health_fitness_summary') }}
    where scope in ('district', 'city') and grade = '全部' and sex = '全部'
    union all
    select school_year, district_code, 'myopia_rate', cast(poor_vision as double), cast(screened as double)
    from {{ ref('health_vision_summary') }}
    where scope in ('district', 'city') and grade = '全部' and sex = '全部'
),

-- next school year's shortage of places, reported on the current (origin) year's row: a
-- surplus in one district does not fill another's gap
gap as (
    select school_year - 1 as school_year, district_code, 'place_gap_next_year' as kpi,
           sum(case when place_gap > 0 then place_gap else 0 end) as numerator,
           cast(null as double) as denominator
    from {{ ref('enrollment_place_gap') }}
    where school_year = (select min(school_year) from {{ ref('enrollment_place_gap') }})
    group by school_year, district_code
),

gap_city as (
    select school_year, '全部' as district_code, kpi, sum(numerator) as numerator, cast(null as double) as denominator
    from gap group by school_year, kpi
),

-- data freshness: the latest school year each fact holds
freshness as (
    {%- for fact, kpi in [('fct_enrollment', 'latest_year_enrollment'), ('fct_fitness_test', 'latest_year_fitness'),
                          ('fct_vision_screening', 'latest_year_vision'), ('fct_school_condition', 'latest_year_facility')] %}
    select max(school_year) as school_year, {{ known_district('district_code') }} as district_code, '{{ kpi }}' as kpi,
           cast(max(school_year) as double) as numerator, cast(null as double) as denominator
    from {{ ref(fact) }} group by {{ known_district('district_code') }}
    union all
    select max(school_year), '全部', '{{ kpi }}', cast(max(school_year) as double), cast(null as double)
    from {{ ref(fact) }}
    having count(*) > 0  -- a fact with no rows yet has no latest year (not a row with a null one)
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
)

select 'district' as scope, * from district_counts
union all
select 'city', * from city_counts
union all
select case when district_code = '全部' then 'city' else 'district' end, * from health
union all
select 'district', * from gap
union all
select 'city', * from gap_city
union all
select case when district_code = '全部' then 'city' else 'district' end, * from freshness
