{#- On DuckDB, `edulake build` attaches the next published warehouse as `published` (edulake.warehouse.publish):
    the reader schemas (vars core:published_schemas) are built into it, everything else (staging, intermediate,
    audit) into the builder's own file, so publishing is a rename, not a copy of every mart. Spark has one catalog. -#}
{% macro generate_database_name(custom_database_name=none, node=none) -%}
  {%- if target.type == 'duckdb' and custom_database_name is none and node is not none
        and node.config.schema in var('core:published_schemas') -%}
    published
  {%- else -%}
    {{ default__generate_database_name(custom_database_name, node) }}
  {%- endif -%}
{%- endmacro %}
