-- 学校维度: the school registry with code names and the stages each school serves.
-- Ids that feeds refer to but the registry lacks are inferred members (is_in_registry = false).
with registry as (
    select * from {{ ref('stg_reference__school') }}
),

inferred as (
    select r.school_id
    from {{ ref('int_school__referenced') }} as r
    left join registry as s on r.school_id = s.school_id
    where s.school_id is null
),

schools as (
    select
        school_id,
        school_name,
        running_type,
        district_code,
        stages,
        sponsor,
        founded_year,
        true as is_in_registry
    from registry
    union all
    select
        school_id,
        cast(null as {{ dbt.type_string() }}) as school_name,
        cast(null as {{ dbt.type_string() }}) as running_type,
        cast(null as {{ dbt.type_string() }}) as district_code,
        cast(null as {{ dbt.type_string() }}) as stages,
        cast(null as {{ dbt.type_string() }}) as sponsor,
        cast(null as integer) as founded_year,
        false as is_in_registry
    from inferred
),

running_types as (
    select
        code,
        name
    from {{ ref('ref_running_type') }}
),

categories as (
    select
        code,
        name
    from {{ ref('ref_school_category') }}
),

districts as (
    select
        district_code,
        district_name
    from {{ ref('dim_district') }}
)

select
    s.school_id,
    s.school_name,
    s.running_type,
    cast(rt.name as {{ dbt.type_string() }}) as running_type_name,
    cast(substring(s.school_id, 1, 2) as {{ dbt.type_string() }}) as school_category,
    cast(cat.name as {{ dbt.type_string() }}) as school_category_name,
    s.district_code,
    d.district_name,
    s.stages,
    s.stages like '%小学%' as serves_primary,
    s.stages like '%初中%' as serves_junior_secondary,
    s.stages like '%高中%' as serves_senior_secondary,
    s.sponsor,
    s.founded_year,
    s.is_in_registry
from schools as s
left join running_types as rt on s.running_type = rt.code
left join categories as cat on cat.code = substring(s.school_id, 1, 2)
left join districts as d on s.district_code = d.district_code
