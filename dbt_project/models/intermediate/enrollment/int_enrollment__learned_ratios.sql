-- Ratios learned for each target school year from the years BEFORE it: the mean of the last
-- var('enrollment:ratio_window') observed ratios, and the relative spread of all earlier ones
-- (for prediction intervals). The last target year is one past the history (the forecast).
with ratios as (
    select
        district_code,
        grade,
        school_year,
        ratio
    from {{ ref('int_enrollment__transition_ratios') }}
    where ratio is not null
),

last_year as (
    select max(school_year) as last_school_year from {{ ref('int_enrollment__district_grade_history') }}
),

targets as (
    select distinct
        district_code,
        grade,
        school_year as target_year
    from ratios
    union
    select distinct
        r.district_code,
        r.grade,
        l.last_school_year + 1 as target_year
    from ratios as r cross join last_year as l
),

windowed as (
    select
        t.district_code,
        t.grade,
        t.target_year,
        avg(r.ratio) as ratio_mean,
        count(*) as window_years
    from targets as t
    inner join ratios as r
        on t.district_code = r.district_code and t.grade = r.grade
            and t.target_year > r.school_year
            and r.school_year >= t.target_year - {{ var('enrollment:ratio_window') }}
    group by t.district_code, t.grade, t.target_year
),

spread as (
    select
        t.district_code,
        t.grade,
        t.target_year,
        stddev_samp(r.ratio) / avg(r.ratio) as ratio_rel_sd,
        count(*) as history_years
    from targets as t
    inner join ratios as r
        on t.district_code = r.district_code and t.grade = r.grade and t.target_year > r.school_year
    group by t.district_code, t.grade, t.target_year
)

select
    w.district_code,
    w.grade,
    w.target_year,
    w.ratio_mean,
    w.window_years,
    coalesce(s.ratio_rel_sd, 0) as ratio_rel_sd,
    -- spread of a new year's ratio around a mean of window_years ratios: σ·√(1 + 1/n)
    -- (no spread from a single earlier year: no interval rather than a zero-width one)
    case when s.history_years >= 2 then s.ratio_rel_sd * sqrt(1.0 + 1.0 / w.window_years) end
        as ratio_pred_rel_sd,
    s.history_years
from windowed as w
inner join spread as s on w.district_code = s.district_code and w.grade = s.grade and w.target_year = s.target_year
