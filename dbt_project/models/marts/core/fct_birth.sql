-- 分区出生人口: one row per district and birth year.
select
    {{ edulake_key(['district_code', 'birth_year']) }} as birth_key,
    district_code,
    birth_year,
    births_registered,
    births_resident
from {{ ref('stg_reference__birth') }}
