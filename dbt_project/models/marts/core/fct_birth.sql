-- 分区出生人口: one row per district and birth year.
select
    {{ gen_skey('birth_key') }},
    district_code,
    birth_year,
    births_registered,
    births_resident
from {{ ref('stg_reference__birth') }}
