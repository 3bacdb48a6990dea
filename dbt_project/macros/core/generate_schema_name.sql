{#- Schemas are named by layer (staging, core, health …), not prefixed with the target schema:
    analysts and Superset see core.dim_student on every engine. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
  {{- (custom_schema_name or target.schema) | trim -}}
{%- endmacro %}
