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
    select
        s.*,
        case when s.grade_no <= 6 then '小学' when s.grade_no <= 9 then '初中' else '高中' end as stage,
        case when s.grade_no <= 6 then 6 when s.grade_no <= 9 then 9 else 12 end as final_grade
    from scored as s
),

finals as (
    select * from staged
    where grade_no = final_grade
),

others as (
    select
        f.student_xyear_key,
        f.stage,
        avg(o.total_score) as other_years_mean,
        count(o.total_score) as other_years,
        max(case when o.is_low_confidence then 1 else 0 end) as other_low_confidence
    from finals as f
    inner join staged as o
        on f.student_xyear_key = o.student_xyear_key and f.stage = o.stage and f.grade_no > o.grade_no
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
                then {{ edulake_round_half_up('f.total_score * 0.5 + o.other_years_mean * 0.5', 1) }}
            else f.total_score
        end as graduation_score,
        coalesce(f.is_low_confidence or coalesce(o.other_low_confidence, 0) = 1, false)
            as is_low_confidence
    from finals as f
    left join others as o on f.student_xyear_key = o.student_xyear_key and f.stage = o.stage
),

leveled as (
    select
        g.student_xyear_key,
        g.stage,
        max(cast(l.min_score as double)) as level_min
    from graduation as g
    inner join {{ ref('health_fitness_levels') }} as l on g.graduation_score >= cast(l.min_score as double)
    group by g.student_xyear_key, g.stage
)

select
    g.*,
    l.level as graduation_level
from graduation as g
left join leveled as v on g.student_xyear_key = v.student_xyear_key and g.stage = v.stage
left join {{ ref('health_fitness_levels') }} as l on cast(l.min_score as double) = v.level_min
