-- 学籍人数: census-day roll records per school year, district, school, 学段 and grade, with the
-- district's name: what the cockpit's enrollment charts and filters read (no student-level rows).
select
    e.school_year,
    e.district_code,
    dd.district_name,
    e.school_id,
    e.stage,
    e.grade,
    cast(sum(case when e.is_enrolled then 1 else 0 end) as bigint) as students,
    cast(count(*) as bigint) as records
from {{ ref('fct_enrollment') }} as e
left join {{ ref('dim_district') }} as dd on e.district_code = dd.district_code
group by e.school_year, e.district_code, dd.district_name, e.school_id, e.stage, e.grade
