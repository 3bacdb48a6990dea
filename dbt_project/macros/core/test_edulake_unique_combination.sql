{#- Generic test: the columns together identify a row (dbt_utils' unique_combination_of_columns,
    written here because packages cannot be downloaded at build time). -#}
{% test edulake_unique_combination(model, columns) %}
select {{ columns | join(', ') }}, count(*) as rows_with_key
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}
