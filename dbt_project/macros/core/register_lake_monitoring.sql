{#- on-run-start: expose the 运行监测 figures edulake.monitoring writes (lake/ops/deliveries, lake/ops/alerts) as
    views lake_ops.<table> (DuckDB). A table not written yet is an empty view with the source's columns, so a
    warehouse builds from a lake that has raised no alert. edulake build drops lake_ops before publishing (not
    a reader schema): the published ops marts stand alone. On Spark the sources name delta.`<path>`. -#}
{% macro edulake_register_lake_monitoring() %}
  {{ return(adapter.dispatch('edulake_register_lake_monitoring', 'edulake')()) }}
{% endmacro %}

{% macro default__edulake_register_lake_monitoring() %}
  {{ return('') }}
{% endmacro %}

{% macro duckdb__edulake_register_lake_monitoring() %}
  {%- if execute -%}
    {%- set statements = ['create schema if not exists lake_ops'] -%}
    {%- for node in graph.sources.values() if node.source_name == 'lake_monitoring' -%}
      {%- set location = var('core:ops_path') ~ "/" ~ node.name -%}
      {%- set log_files = run_query("select count(*) from glob('" ~ location ~ "/_delta_log/*.json')").columns[0].values()[0] -%}
      {%- if log_files > 0 -%}
        {%- do statements.append("create or replace view lake_ops." ~ node.name ~ " as select * from delta_scan('"
                                ~ location ~ "')") -%}
      {%- else -%}
        {%- set columns = [] -%}
        {%- for column in node.columns.values() -%}
          {%- do columns.append("cast(null as " ~ column.data_type ~ ") as \"" ~ column.name ~ "\"") -%}
        {%- endfor -%}
        {%- do statements.append("create or replace view lake_ops." ~ node.name ~ " as select "
                                ~ columns | join(", ") ~ " where false") -%}
      {%- endif -%}
    {%- endfor -%}
    {{ return(statements | join(';\n')) }}
  {%- endif -%}
{% endmacro %}
