-- 学位需求预测: enrolled students per district, grade and school year for the next
-- var('enrollment:horizon_years') school years by cohort survival — a cohort already at school
-- moves up with the learned progression ratios; a cohort not yet at school enters grade 1 as
-- births six years earlier × the entry ratio (grade 7 from the primary cohort). Intervals add
-- the ratios' relative variances along the cohort's path (log scale), ± var('enrollment:interval_z').
{%- set horizon = var('enrollment:horizon_years') %}
{%- set z = var('enrollment:interval_z') %}
with last_year as (
    select max(school_year) as origin_year from {{ ref('int_enrollment__district_grade_history') }}
),

ratios as (
    select
        l.district_code,
        l.grade,
        l.ratio_mean,
        l.ratio_pred_rel_sd as ratio_rel_sd
    from {{ ref('int_enrollment__learned_ratios') }} as l
    inner join last_year as y on l.target_year = y.origin_year + 1
),

-- cumulative log ratio and variance from grade 2 up to each grade (cohort path products)
cumulative as (
    select
        district_code,
        grade,
        ratio_mean,
        ratio_rel_sd,
        sum(case when grade >= 2 then ln(ratio_mean) else 0 end)
            over (partition by district_code order by grade rows between unbounded preceding and current row)
            as cum_log,
        sum(case when grade >= 2 then ratio_rel_sd * ratio_rel_sd else 0 end)
            over (partition by district_code order by grade rows between unbounded preceding and current row)
            as cum_var
    from ratios
    where ratio_mean > 0
),

horizons as (
    {%- for h in range(1, horizon + 1) %}
        select {{ h }} as horizon{% if not loop.last %}
            union all{% endif %}
    {%- endfor %}
),

-- cohorts already enrolled at the origin year (grade g − h at the origin)
from_enrolled as (
    select
        c.district_code,
        y.origin_year + hz.horizon as school_year,
        c.grade,
        hz.horizon,
        s.students * exp(c.cum_log - src.cum_log) as forecast,
        c.cum_var - src.cum_var as log_var,
        'cohort_survival' as path
    from cumulative as c
    cross join horizons as hz
    cross join last_year as y
    inner join cumulative as src on c.district_code = src.district_code and src.grade = c.grade - hz.horizon
    inner join {{ ref('int_enrollment__district_grade_history') }} as s
        on c.district_code = s.district_code and s.grade = c.grade - hz.horizon and y.origin_year = s.school_year
    where c.grade > hz.horizon
),

-- cohorts entering grade 1 after the origin year: births six years before entry
from_births as (
    select
        c.district_code,
        y.origin_year + hz.horizon as school_year,
        c.grade,
        hz.horizon,
        b.{{ var('enrollment:births_measure') }} * g1.ratio_mean * exp(c.cum_log - g1.cum_log) as forecast,
        g1.ratio_rel_sd * g1.ratio_rel_sd + c.cum_var - g1.cum_var as log_var,
        'births_entry' as path
    from cumulative as c
    cross join horizons as hz
    cross join last_year as y
    inner join cumulative as g1 on c.district_code = g1.district_code and g1.grade = 1
    inner join {{ ref('fct_birth') }} as b
        on c.district_code = b.district_code
            and b.birth_year = y.origin_year + hz.horizon - c.grade + 1 - 6
    where c.grade <= hz.horizon
),

forecasts as (
    select * from from_enrolled
    union all
    select * from from_births
)

select
    f.district_code,
    f.school_year,
    f.grade,
    case when f.grade <= 6 then '小学' when f.grade <= 9 then '初中' else '高中' end as stage,
    f.horizon,
    f.path,
    f.forecast,
    f.forecast * exp(-{{ z }} * sqrt(f.log_var)) as forecast_lower,
    f.forecast * exp({{ z }} * sqrt(f.log_var)) as forecast_upper
from forecasts as f
