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

{#- Half-up rounding of a computed double: rounding the double itself is decided by float noise at the
    .x5 boundary (62.35 computed as 62.349999999999994: DuckDB's round gives 62.4, Spark's 62.3); its
    decimal form at 9 places is not. The same on both engines, and the standard's half-up. -#}
{% macro edulake_round_half_up(expr, places) -%}
  cast(round(cast({{ expr }} as decimal(38, 9)), {{ places }}) as double)
{%- endmacro %}
