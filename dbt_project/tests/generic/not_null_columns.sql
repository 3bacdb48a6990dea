{#- Every listed column of a model not null, in one scan: returns one row per combination of null columns found,
    naming them, with its count. The staging models' required columns use it (codegen.staging_yml): one test per
    model instead of one per column, since dbt's own cost per test node was as large as the query on a staging
    view (75 nodes in each build). Written here because dbt_utils has no test over several columns that names
    the null one. -#}
{% test not_null_columns(model, columns) %}
select
    null_columns,
    count(*) as null_rows
from (
    select
        concat_ws(
            ', '
            {%- for column in columns %},
            case when {{ column }} is null then '{{ column }}' end
            {%- endfor %}
        ) as null_columns
    from {{ model }}
    where
        {%- for column in columns %}
        {% if not loop.first %}or {% endif %}{{ column }} is null
        {%- endfor %}
) as rows_with_nulls
group by null_columns
{% endtest %}
