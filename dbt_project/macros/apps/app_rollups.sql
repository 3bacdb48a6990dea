{#- Shared roll-up shape of the app marts: sums of counts over school / district / city, by grade
    and sex or all of them. Dimension values of a rolled-up level read '全部' (all), so marts
    join and filter on plain equality. `measures` are column names to sum. -#}
{% macro rollup_dimensions() %}
    {{ return(['school_year', 'district_code', 'school_id', 'grade', 'sex']) }}
{% endmacro %}

{% macro rollup_counts(relation, measures) %}
select
    school_year,
    case when grouping(district_code) = 1 then '全部' else district_code end as district_code,
    case when grouping(school_id) = 1 then '全部' else school_id end as school_id,
    case when grouping(grade) = 1 then '全部' else grade end as grade,
    case when grouping(sex) = 1 then '全部' else sex end as sex,
    case when grouping(school_id) = 0 then 'school'
         when grouping(district_code) = 0 then 'district'
         else 'city' end as scope,
    {%- for m in measures %}
    sum({{ m }}) as {{ m }}{% if not loop.last %},{% endif %}
    {%- endfor %}
from {{ relation }}
group by grouping sets (
    (school_year, district_code, school_id, grade, sex),
    (school_year, district_code, school_id),
    (school_year, district_code, grade, sex),
    (school_year, district_code, grade),
    (school_year, district_code, sex),
    (school_year, district_code),
    (school_year, grade, sex),
    (school_year, grade),
    (school_year, sex),
    (school_year)
)
{% endmacro %}

{#- rate = numerator / denominator, null when the denominator is empty -#}
{% macro safe_rate(numerator, denominator) -%}
    case when {{ denominator }} > 0 then cast({{ numerator }} as double) / {{ denominator }} end
{%- endmacro %}

{#- A fact row whose school is missing from the registry has no district: the app marts count it
    under '未知' (unknown) so city totals still reconcile with the facts. -#}
{% macro known_district(column) -%}
    coalesce({{ column }}, '未知')
{%- endmacro %}
