-- School -> district, for facts whose feed does not carry the district.
select
    school_id,
    district_code
from {{ ref('stg_reference__school') }}
