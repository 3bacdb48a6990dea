-- 普查日在籍人数 per school, school year and grade: the official figure the snapshot keeps history of.
select
    {{ gen_skey('census_key') }},
    school_year,
    school_id,
    district_code,
    grade,
    count(*) as students
from {{ ref('fct_enrollment') }}
where is_enrolled
group by school_year, school_id, district_code, grade
