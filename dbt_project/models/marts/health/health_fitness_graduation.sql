-- 毕业成绩: for a student tested in the last grade of a stage (小学六年级, 初三, 高三):
-- final-year total × 50% + mean of the stage's other years' totals × 50% (the standard's rule;
-- with no other year on record, the final-year total alone).
with scored as (
    select
        student_xyear_key,
        school_id,
        district_code,
        school_year,
        cast(grade as integer) as grade_no,
        total_score,
        is_low_confidence
    from {{ ref('health_fitness_scores') }}
    where total_score is not null and student_xyear_key is not null
),

staged as (
    select s.*,
           case when grade_no <= 6 then '小学' when grade_no <= 9 then '初中' else '高中' end as stage,
           case when grade_no <= 6 then 6 when grade_no <= 9 then 9 else 12 end as final_grade
    from scored s
),

finals as (
    select * from staged where grade_no = final_grade
),

others as (
    select f.student_xyear_key, f.stage,
           avg(o.total_score) as other_years_mean,
           count(o.total_score) as other_years,
           max(case when o.is_low_confidence then 1 else 0 end) as other_low_confidence
    from finals f
    join staged o
      on o.student_xyear_key = f.student_xyear_key and o.stage = f.stage and o.grade_no < f.grade_no
    group by f.student_xyear_key, f.stage
),

graduation as (
    select
        f.student_xyear_key,
        f.stage,
        f.school_id,
        f.district_code,
        f.school_year as graduation_year,
        f.total_score as final_year_score,
        o.other_years_mean,
        coalesce(o.other_years, 0) as other_years,
        case when o.other_years > 0
             then round(f.total_score * 0.5 + o.other_years_mean * 0.5, 1)
             else f.total_score end as graduation_score,
        case when f.is_low_confidence or coalesce(o.other_low_confidence, 0) = 1 then true else false end
            as is_low_confidence
    from finals f
    left join others o on o.student_xyear_key = f.student_xyear_key and o.stage = f.stage
),

leveled as (
    select g.student_xyear_key, g.stage, max(cast(l.min_score as double)) as level_min
    from graduation g
    join {{ ref('health_fitness_levels') }} l on g.graduation_score >= cast(l.min_score as double)
    group by g.student_xyear_key, g.stage
)

select g.*, l.level as graduation_level
from graduation g
left join leveled v on v.student_xyear_key = g.student_xyear_key and v.stage = g.stage
left join {{ ref('health_fitness_levels') }} l on cast(l.min_score as double) = v.level_min
