{#- on-run-start: expose each silver Delta table as a view silver.<entity> (DuckDB reads Delta through
    the delta extension loaded by the profile). A real relation, unlike an external location, so dbt
    unit tests can read its columns. edulake build drops these views (and the staging views over them)
    before publishing, so the published warehouse never depends on the lake. On Spark the sources
    name delta.`<path>` directly and nothing needs registering. -#}
{% macro edulake_register_silver() %}
  {{ return(adapter.dispatch('edulake_register_silver', 'edulake')()) }}
{% endmacro %}

{% macro default__edulake_register_silver() %}
  {{ return('') }}
{% endmacro %}

{% macro duckdb__edulake_register_silver() %}
  {%- if execute -%}
    {%- set statements = ['create schema if not exists silver'] -%}
    {%- for node in graph.sources.values() if node.source_name == 'silver' -%}
      {%- do statements.append("create or replace view silver." ~ node.name ~ " as select * from delta_scan('"
                              ~ var('core:silver_path') ~ "/" ~ node.name ~ "')") -%}
    {%- endfor -%}
    {{ return(statements | join(';\n')) }}
  {%- endif -%}
{% endmacro %}
