/*
What: every unsuppressed cockpit count equals the same count taken straight from the core facts —
  students by 学段 and in total (fct_enrollment, enrolled), schools, teachers (fct_school_condition),
  fitness records scored (fct_fitness_test), screened students (fct_vision_screening) — for the city
  and each district, every school year.
When it matters: a leader's headline figure that disagrees with the detailed facts destroys trust in
  the cockpit; a mismatch means a filter or join in the marts dropped or doubled rows.
How to resolve: the failing rows name the KPI, district and year with both figures; compare the mart
  model feeding that KPI (int_cockpit__kpi_values, health_*_summary) with the fact's grain.
*/
with facts as (
    select
        school_year,
        {{ known_district('district_code') }} as district_code,
        case stage when '小学' then 'students_primary' when '初中' then 'students_junior_secondary'
            else 'students_senior_secondary'
        end as kpi,
        count(*) as expected
    from {{ ref('fct_enrollment') }}
    where is_enrolled
    group by school_year, district_code, stage
    union all
    select
        school_year,
        {{ known_district('district_code') }} as district_code,
        'students_total' as kpi,
        count(*) as expected
    from {{ ref('fct_enrollment') }}
    where is_enrolled
    group by school_year, district_code
    union all
    select
        school_year,
        {{ known_district('district_code') }} as district_code,
        'schools' as kpi,
        count(distinct school_id) as expected
    from {{ ref('fct_enrollment') }}
    where is_enrolled
    group by school_year, district_code
    union all
    select
        school_year,
        {{ known_district('district_code') }} as district_code,
        'teachers' as kpi,
        sum(full_time_teachers) as expected
    from {{ ref('fct_school_condition') }}
    group by school_year, district_code
    union all
    select
        school_year,
        {{ known_district('district_code') }} as district_code,
        'poor_vision_rate' as kpi,
        count(*) as expected
    from {{ ref('fct_vision_screening') }}
    group by school_year, district_code
),

with_city as (
    select
        'district' as grouping_level,
        school_year,
        district_code,
        kpi,
        expected
    from facts
    union all
    select
        'city' as grouping_level,
        school_year,
        null as district_code,
        kpi,
        sum(expected) as expected
    from facts
    group by school_year, kpi
),

published as (
    select
        grouping_level,
        school_year,
        district_code,
        kpi,
        case when kpi = 'poor_vision_rate' then denominator else numerator end as published
    from {{ ref('cockpit_kpis') }}
    where not is_suppressed
)

select
    f.school_year,
    f.district_code,
    f.kpi,
    f.expected,
    p.published
from with_city as f
inner join
    published
        as p
    on f.grouping_level = p.grouping_level and f.school_year = p.school_year
        and p.district_code is not distinct from f.district_code and f.kpi = p.kpi
where p.published <> f.expected

union all

-- a figure present in the facts must be published (suppressed or not)
select
    f.school_year,
    f.district_code,
    f.kpi,
    f.expected,
    null as published
from with_city as f
left join {{ ref('cockpit_kpis') }} as k
    on f.grouping_level = k.grouping_level and f.school_year = k.school_year
        and k.district_code is not distinct from f.district_code and f.kpi = k.kpi
where k.kpi is null
