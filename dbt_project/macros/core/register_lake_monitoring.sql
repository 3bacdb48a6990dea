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
  {{ return(edulake_delta_views('lake_monitoring', 'lake_ops', var('core:ops_path'))) }}
{% endmacro %}
