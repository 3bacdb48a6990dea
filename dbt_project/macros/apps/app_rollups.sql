{#- Shared roll-up shape of the app marts: sums of counts over school / district / city, by grade
    and sex or all of them, in one GROUPING SETS query. A rolled-up key column is NULL (keys keep
    their types: grade stays an integer) and `grouping_level` names the grouping set, e.g. 'district'
    (all grades, both sexes), 'city_grade', 'school_grade_sex'. `measures` are column names to sum. -#}
{% macro rollup_counts(relation, measures) %}
select
    school_year,
    district_code,
    school_id,
    grade,
    sex,
    case when grouping(school_id) = 0 then 'school'
         when grouping(district_code) = 0 then 'district'
         else 'city' end
    || case when grouping(grade) = 0 then '_grade' else '' end
    || case when grouping(sex) = 0 then '_sex' else '' end as grouping_level,
    {%- for m in measures %}
    cast(sum({{ m }}) as bigint) as {{ m }}{% if not loop.last %},{% endif %}
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

{#- The grouping levels rollup_counts produces (accepted_values of grouping_level). -#}
{% macro rollup_grouping_levels() %}
  {{ return(['school_grade_sex', 'school', 'district_grade_sex', 'district_grade', 'district_sex', 'district',
             'city_grade_sex', 'city_grade', 'city_sex', 'city']) }}
{% endmacro %}

{#- The same roll-up row one school year earlier (for year-over-year changes): rolled-up keys are
    NULL, so they are matched with IS NOT DISTINCT FROM. -#}
{% macro previous_year_join(cur, prev) -%}
    {{ prev }}.school_year = {{ cur }}.school_year - 1
    and {{ prev }}.grouping_level = {{ cur }}.grouping_level
    {%- for key in ['district_code', 'school_id', 'grade', 'sex'] %}
    and {{ prev }}.{{ key }} is not distinct from {{ cur }}.{{ key }}
    {%- endfor %}
{%- endmacro %}

{#- District name for readers: the city's name on city rows, else the code list's name. -#}
{% macro district_name(code_column, is_city) -%}
    case when {{ is_city }} then '北京市' else coalesce(dd.district_name, {{ code_column }}) end
{%- endmacro %}

{#- A fact row whose school is missing from the registry has no district: the app marts count it
    under '未知' (unknown) so city totals still reconcile with the facts. -#}
{% macro known_district(column) -%}
    coalesce({{ column }}, '未知')
{%- endmacro %}
