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

{#- Text of a value, for keys. -#}
{% macro edulake_text(expr) -%} cast({{ expr }} as {{ dbt.type_string() }}) {%- endmacro %}

{#- One surrogate-key registry: md5 over the '|'-joined parts, NULL parts spelled out so
    ('a', NULL) and (NULL, 'a') differ. The same inputs give the same key on every engine. -#}
{% macro edulake_key(parts) -%}
  {%- set texts = [] -%}
  {%- for p in parts -%}
    {%- do texts.append("coalesce(" ~ edulake_text(p) ~ ", '<null>')") -%}
    {%- if not loop.last %}{% do texts.append("'|'") %}{% endif -%}
  {%- endfor -%}
  {{ dbt.hash(dbt.concat(texts)) }}
{%- endmacro %}

{#- The latest row per natural key (silver is already merged on it; this guards re-deliveries and
    lets the staging contract hold even if a source is appended to instead of merged). -#}
{% macro edulake_latest_per_key(relation, keys, order_by='_loaded_at desc, _batch_id desc') -%}
    select * from (
        select
            src.*,
            row_number() over (partition by {{ keys | join(', ') }} order by {{ order_by }}) as edulake_row_rank
        from {{ relation }} as src
    ) ranked
    where edulake_row_rank = 1
{%- endmacro %}
