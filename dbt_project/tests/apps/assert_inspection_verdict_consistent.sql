/*
What: a district is 达标 only if every evaluated school passes (≥6 of 7 indicators) and the 差异系数
  criterion holds; the school counts agree with inspection_school_evaluation; each district value is
  the aggregate ratio Σ numerator / Σ students of its schools.
When it matters: the verdict is what the inspection report quotes; it must follow from the rows shown.
How to resolve: the failing district/year/stage is listed; compare its rows in
  inspection_school_evaluation and inspection_district_indicator_cv.
*/
with schools as (
    select
        district_code,
        school_year,
        stage,
        count(*) as schools,
        sum(case when is_passing then 1 else 0 end) as schools_passing_check
    from {{ ref('inspection_school_evaluation') }}
    group by 1, 2, 3
),

ratios as (
    select
        district_code,
        school_year,
        stage,
        indicator,
        sum(numerator) / sum(students) as aggregate_ratio
    from {{ ref('int_inspection__school_indicator_inputs') }}
    where students > 0
    group by 1, 2, 3, 4
)

select
    e.district_code,
    e.school_year,
    e.stage,
    'verdict' as failure
from {{ ref('inspection_district_evaluation') }} as e
inner join schools as s on e.district_code = s.district_code and e.school_year = s.school_year and e.stage = s.stage
where e.schools <> s.schools or e.schools_passing <> s.schools_passing_check
    or (e.verdict = '达标' and (s.schools_passing_check < s.schools or not e.is_cv_passing))

union all

select
    c.district_code,
    c.school_year,
    c.stage,
    'district_value' as failure
from {{ ref('inspection_district_indicator_cv') }} as c
inner join ratios as r
    on c.district_code = r.district_code and c.school_year = r.school_year
        and c.stage = r.stage and c.indicator = r.indicator
where abs(c.district_value - r.aggregate_ratio) > 1e-9 * greatest(1.0, abs(r.aggregate_ratio))
