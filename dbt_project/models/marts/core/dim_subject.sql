-- 科目维度 from the subject code list.
select
    cast(code as {{ dbt.type_string() }}) as subject_code,
    cast(name as {{ dbt.type_string() }}) as subject_name,
    cast(name_en as {{ dbt.type_string() }}) as subject_name_en
from {{ ref('ref_subject') }}
