-- 县域（区）资源配置评价: per district, school year and 学段 — schools passing, the indicators'
-- 差异系数, the verdict, and what holds the district back. var('inspection:cv_scope'):
-- 'each_indicator' (default: every indicator's CV within the limit) or 'composite' (the mean
-- of the 7 CVs within the limit) — the source is ambiguous, see balanced_development_2017.md §3.
with schools as (
    select
        district_code,
        school_year,
        stage,
        count(*) as schools,
        cast(sum(case when is_passing then 1 else 0 end) as bigint) as schools_passing
    from {{ ref('inspection_school_evaluation') }}
    group by district_code, school_year, stage
),

failing_schools as (
    select
        district_code,
        school_year,
        stage,
        {{ dbt.listagg("coalesce(school_name, school_id)", "'、'", 'order by school_id') }} as schools_holding_back
    from {{ ref('inspection_school_evaluation') }}
    where not is_passing
    group by district_code, school_year, stage
),

cv as (
    select
        district_code,
        school_year,
        stage,
        count(*) as indicators,
        cast(sum(case when is_cv_met then 1 else 0 end) as bigint) as indicators_cv_met,
        avg(cv) as composite_cv,
        max(cv_max) as cv_max
    from {{ ref('inspection_district_indicator_cv') }}
    group by district_code, school_year, stage
),

cv_failing as (
    select
        district_code,
        school_year,
        stage,
        {{ dbt.listagg('indicator_cn', "'、'", 'order by indicator_no') }} as indicators_holding_back
    from {{ ref('inspection_district_indicator_cv') }}
    where not is_cv_met
    group by district_code, school_year, stage
),

judged as (
    select
        s.district_code,
        s.school_year,
        s.stage,
        s.schools,
        s.schools_passing,
        c.indicators_cv_met,
        c.composite_cv,
        c.cv_max,
        {%- if var('inspection:cv_scope') == 'composite' %}
        case when c.composite_cv <= c.cv_max then true else false end as is_cv_passing,
        {%- else %}
            coalesce(c.indicators_cv_met = c.indicators, false) as is_cv_passing,
        {%- endif %}
        '{{ var('inspection:cv_scope') }}' as cv_scope,
        f.schools_holding_back,
        {%- if var('inspection:cv_scope') == 'composite' %}
        case when c.composite_cv > c.cv_max then v.indicators_holding_back end as indicators_holding_back
        {%- else %}
            v.indicators_holding_back
        {%- endif %}
    from schools as s
    left join cv as c on s.district_code = c.district_code and s.school_year = c.school_year and s.stage = c.stage
    left join failing_schools as f
        on s.district_code = f.district_code and s.school_year = f.school_year and s.stage = f.stage
    left join cv_failing as v
        on s.district_code = v.district_code and s.school_year = v.school_year and s.stage = v.stage
)

select
    j.*,
    d.district_name,
    coalesce(j.schools_passing = j.schools and j.is_cv_passing, false) as is_balanced,
    case when j.schools_passing = j.schools and j.is_cv_passing then '达标' else '未达标' end as verdict
from judged as j
left join {{ ref('dim_district') }} as d on j.district_code = d.district_code
