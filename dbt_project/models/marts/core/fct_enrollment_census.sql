-- 普查日在籍人数, as first reported and as corrected, from the snapshot's versions.
with versions as (
    select
        census_key,
        school_year,
        school_id,
        district_code,
        grade,
        students,
        cast(dbt_valid_from as timestamp) as valid_from,
        dbt_valid_to,
        coalesce(cast(dbt_is_deleted as {{ dbt.type_string() }}), 'False') = 'True' as is_deleted
    from {{ ref('snap_enrollment_census') }}
),

ranked as (
    select
        versions.*,
        row_number() over (partition by versions.census_key order by versions.valid_from) as version_number,
        count(*) over (partition by versions.census_key) as versions
    from versions
),

first_reported as (
    select * from ranked
    where version_number = 1
),

latest as (
    select * from ranked
    where version_number = versions
)

select
    f.census_key,
    cast(f.school_year as integer) as school_year,
    f.school_id,
    f.district_code,
    cast(f.grade as integer) as grade,
    cast(f.students as bigint) as students_as_reported,
    cast(case when l.is_deleted then 0 else l.students end as bigint) as students_as_corrected,
    l.version_number > 1 as is_corrected,
    f.valid_from as first_reported_at,
    case when l.version_number > 1 then l.valid_from end as last_changed_at
from first_reported as f
inner join latest as l on f.census_key = l.census_key
