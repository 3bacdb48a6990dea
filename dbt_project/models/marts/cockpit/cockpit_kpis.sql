-- 领导驾驶舱指标: city and district headline figures per school year with Chinese labels.
-- Small-cell suppression: a figure counted from fewer than var('cockpit:min_cell_size')
-- students (the denominator of a rate, or the count itself) is published as null with
-- is_suppressed = true; its numerator and denominator are withheld too.
{%- set min_cell = var('cockpit:min_cell_size') %}
with v as (
    select * from {{ ref('int_cockpit__kpi_values') }}
),

labels as (
    select * from {{ ref('cockpit_kpi_definitions') }}
),

valued as (
    select
        v.grouping_level,
        v.district_code,
        v.school_year,
        v.kpi,
        v.numerator,
        v.denominator,
        case when l.kind in ('ratio', 'rate') then {{ dbt_utils.safe_divide('v.numerator', 'v.denominator') }}
            else v.numerator
        end as value,
        case when l.kind = 'rate' then v.denominator
            when l.kind = 'count_of_students' then v.numerator
        end as cell_size,
        l.kpi_cn,
        l.kind,
        l.unit
    from v
    inner join labels as l on v.kpi = l.kpi
)

select
    x.grouping_level,
    x.district_code,
    {{ district_name('x.district_code', "x.grouping_level = 'city'") }} as district_name,
    x.school_year,
    x.kpi,
    x.kpi_cn,
    x.kind,
    x.unit,
    case when x.cell_size < {{ min_cell }} then null
        else x.value
    end as value,
    case when x.cell_size < {{ min_cell }} then null else x.numerator end as numerator,
    case when x.cell_size < {{ min_cell }} then null else x.denominator end as denominator,
    case when x.cell_size < {{ min_cell }} then true else false end as is_suppressed
from valued as x
left join {{ ref('dim_district') }} as dd on x.district_code = dd.district_code
