{#- Engine-specific pieces behind adapter.dispatch, so models stay portable between DuckDB and Spark. -#}

{#- Number of elements of an array column. -#}
{% macro edulake_array_size(column) -%}
  {{ return(adapter.dispatch('edulake_array_size', 'edulake')(column)) }}
{%- endmacro %}
{% macro default__edulake_array_size(column) -%} coalesce(cardinality({{ column }}), 0) {%- endmacro %}
{% macro duckdb__edulake_array_size(column) -%} coalesce(len({{ column }}), 0) {%- endmacro %}
{% macro spark__edulake_array_size(column) -%} coalesce(size({{ column }}), 0) {%- endmacro %}

{#- A date literal from 'YYYY-MM-DD' text. -#}
{% macro edulake_date(text_expr) -%}
  cast({{ text_expr }} as date)
{%- endmacro %}

{#- Text of a value. -#}
{% macro edulake_text(expr) -%} cast({{ expr }} as {{ dbt.type_string() }}) {%- endmacro %}
