-- 办学条件: one row per school, school year and stage.
select
    {{ gen_skey('school_condition_key') }},
    school_id,
    school_year,
    stage,
    district_code,
    students,
    classes,
    full_time_teachers,
    teachers_above_required_degree,
    backbone_teachers,
    pe_art_teachers,
    teaching_room_area_m2,
    sports_area_m2,
    equipment_value_yuan,
    multimedia_classrooms,
    classrooms,
    planned_places
from {{ ref('stg_facility__school_condition') }}
