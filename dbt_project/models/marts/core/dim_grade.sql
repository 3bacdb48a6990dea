-- 年级维度 from the grade and stage code lists.
with grades as (select * from {{ ref('ref_grade') }}),

stages as (select * from {{ ref('ref_stage') }})

select
    cast(g.code as integer) as grade,
    cast(g.name as {{ dbt.type_string() }}) as grade_name,
    cast(g.stage as {{ dbt.type_string() }}) as stage,
    cast(s.name_en as {{ dbt.type_string() }}) as stage_en,
    cast(g.grade_in_stage as integer) as grade_in_stage,
    cast(g.fitness_template_code as {{ dbt.type_string() }}) as fitness_template_code
from grades as g
left join stages as s on g.stage = s.code
