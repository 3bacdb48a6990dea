-- 优质均衡 resource indicators, long form: one row per school × school year × 学段 × indicator
-- with the indicator's numerator (×100 for the "每百名学生" indicators) and the school's
-- students of that 学段. Only 小学 and 初中 (the seed's stages) are evaluated; 教学点 with fewer
-- than var('inspection:small_site_min_students') students are left out, as the method says.
select
    c.school_id,
    c.district_code,
    c.school_year,
    c.stage,
    c.students,
    i.indicator_no,
    i.indicator,
    i.indicator_cn,
    i.unit,
    i.threshold,
    cast(case i.numerator_column
        when 'teachers_above_required_degree' then c.teachers_above_required_degree
        when 'backbone_teachers' then c.backbone_teachers
        when 'pe_art_teachers' then c.pe_art_teachers
        when 'teaching_room_area_m2' then c.teaching_room_area_m2
        when 'sports_area_m2' then c.sports_area_m2
        when 'equipment_value_yuan' then c.equipment_value_yuan
        when 'multimedia_classrooms' then c.multimedia_classrooms
    end as double) * i.per_students as numerator
from {{ ref('fct_school_condition') }} as c
inner join {{ ref('inspection_resource_indicators_2017') }} as i on c.stage = i.stage
left join {{ ref('dim_school') }} as s on c.school_id = s.school_id
where not (s.running_type = '218' and c.students < {{ var('inspection:small_site_min_students') }})
