-- Every headline figure of the cockpit, unsuppressed, per school year for each district and
-- for the city (district_code NULL): one row per (grouping_level, district, year, kpi) with
-- numerator and denominator, so each figure can be reconciled to the core facts it is counted from.
-- Rates are taken from the health marts, where they are defined, not recounted here.
with enrolled as (
    select
        school_year,
        {{ known_district('district_code') }} as district_code,
        stage,
        count(*) as students
    from {{ ref('fct_enrollment') }}
    where is_enrolled
    group by school_year, district_code, stage
),

conditions as (
    select
        school_year,
        {{ known_district('district_code') }} as district_code,
        sum(students) as students,
        sum(full_time_teachers) as teachers
    from {{ ref('fct_school_condition') }}
    group by school_year, district_code
),

schools as (
    select
        school_year,
        {{ known_district('district_code') }} as district_code,
        count(distinct school_id) as schools
    from {{ ref('fct_enrollment') }}
    where is_enrolled
    group by school_year, district_code
),

-- (school_year, district_code, kpi, numerator, denominator)
district_counts as (
    {%- set stage_kpis = [('小学', 'students_primary'), ('初中', 'students_junior_secondary'),
                          ('高中', 'students_senior_secondary')] %}
    {%- for stage, kpi in stage_kpis %}
        select
            school_year,
            district_code,
            '{{ kpi }}' as kpi,
            cast(students as double) as numerator,
            cast(null as double) as denominator
        from enrolled
        where stage = '{{ stage }}'
        union all
    {%- endfor %}
    select
        school_year,
        district_code,
        'students_total' as kpi,
        cast(sum(students) as double) as numerator,
        cast(null as double) as denominator
    from enrolled
    group by school_year, district_code
    union all
    select
        school_year,
        district_code,
        'schools' as kpi,
        cast(schools as double) as numerator,
        cast(null as double) as denominator
    from schools
    union all
    select
        school_year,
        district_code,
        'teachers' as kpi,
        cast(teachers as double) as numerator,
        cast(null as double) as denominator
    from conditions
    union all
    -- ratio KPIs keep numerator and denominator so the city figure is the ratio of sums
    select
        school_year,
        district_code,
        'student_teacher_ratio' as kpi,
        cast(students as double) as numerator,
        cast(teachers as double) as denominator
    from conditions
),

city_counts as (
    select
        school_year,
        cast(null as {{ dbt.type_string() }}) as district_code,
        kpi,
        sum(numerator) as numerator,
        sum(denominator) as denominator
    from district_counts
    group by school_year, kpi
),

health as (
    {%- for kpi, numerator, denominator, mart in [
        ('fitness_pass_rate', 'passed', 'scored', 'health_fitness_summary'),
        ('fitness_excellent_good_rate', 'excellent_good', 'scored', 'health_fitness_summary'),
        ('obesity_rate', 'obese', 'with_bmi', 'health_fitness_summary'),
        ('poor_vision_rate', 'poor_vision', 'screened', 'health_vision_summary')] %}
        select
            grouping_level,
            school_year,
            district_code,
            '{{ kpi }}' as kpi,
            cast({{ numerator }} as double) as numerator,
            cast({{ denominator }} as double) as denominator
        from {{ ref(mart) }}
        where grouping_level in ('district', 'city')
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

-- next school year's shortage of places, reported on the current (origin) year's row: a
-- surplus in one district does not fill another's gap
gap as (
    select
        g.school_year - 1 as school_year,
        g.district_code,
        'place_gap_next_year' as kpi,
        sum(case when g.place_gap > 0 then g.place_gap else 0 end) as numerator,
        cast(null as double) as denominator
    from {{ ref('enrollment_place_gap') }} as g
    where g.school_year = (select min(first_year.school_year) from {{ ref('enrollment_place_gap') }} as first_year)
    group by g.school_year, g.district_code
),

gap_city as (
    select
        school_year,
        cast(null as {{ dbt.type_string() }}) as district_code,
        kpi,
        sum(numerator) as numerator,
        cast(null as double) as denominator
    from gap
    group by school_year, kpi
),

-- submission completeness: the latest school year each fact holds, per district and city
latest_years as (
    {%- for fact, kpi in [('fct_enrollment', 'latest_year_enrollment'), ('fct_fitness_test', 'latest_year_fitness'),
                          ('fct_vision_screening', 'latest_year_vision'), ('fct_school_condition', 'latest_year_facility')] %}
        select
            'district' as grouping_level,
            max(school_year) as school_year,
            {{ known_district('district_code') }} as district_code,
            '{{ kpi }}' as kpi,
            cast(max(school_year) as double) as numerator,
            cast(null as double) as denominator
        from {{ ref(fact) }}
        group by {{ known_district('district_code') }}
        union all
        select
            'city' as grouping_level,
            max(school_year) as school_year,
            cast(null as {{ dbt.type_string() }}) as district_code,
            '{{ kpi }}' as kpi,
            cast(max(school_year) as double) as numerator,
            cast(null as double) as denominator
        from {{ ref(fact) }}
        having count(*) > 0  -- a fact with no rows yet has no latest year (not a row with a null one)
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
)

select
    'district' as grouping_level,
    *
from district_counts
union all
select
    'city' as grouping_level,
    *
from city_counts
union all
select * from health
union all
select
    'district' as grouping_level,
    *
from gap
union all
select
    'city' as grouping_level,
    *
from gap_city
union all
select * from latest_years
