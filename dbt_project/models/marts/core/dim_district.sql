-- 行政区划维度 from the GB/T 2260 code list (seed ref_district, generated from schemas/codes/district.csv).
with codes as (
    select * from {{ ref('ref_district') }}
)

select
    cast(c.code as {{ dbt.type_string() }}) as district_code,
    cast(c.name as {{ dbt.type_string() }}) as district_name,
    cast(c.status as {{ dbt.type_string() }}) as status,
    cast(c.current_code as {{ dbt.type_string() }}) as current_code,
    cast(cur.name as {{ dbt.type_string() }}) as current_name,
    c.status = 'current' as is_current,
    cast(c.source as {{ dbt.type_string() }}) as source,
    cast(c.confidence as {{ dbt.type_string() }}) as confidence
from codes as c
left join codes as cur on c.current_code = cur.code
