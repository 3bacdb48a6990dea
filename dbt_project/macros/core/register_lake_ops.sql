{#- on-run-start: expose lake/ops/lineage as the view lake_ops.lineage (DuckDB; on Spark the source names
    delta.`<path>`). Before the first OpenLineage event it is an empty view with the same columns, so a
    warehouse can be built from a lake that has emitted nothing yet. edulake build drops lake_ops before
    publishing (it is not a reader schema): the published ops marts stand alone. -#}
{% macro edulake_register_lake_ops() %}
  {{ return(adapter.dispatch('edulake_register_lake_ops', 'edulake')()) }}
{% endmacro %}

{% macro default__edulake_register_lake_ops() %}
  {{ return('') }}
{% endmacro %}

{% macro duckdb__edulake_register_lake_ops() %}
  {{ return(edulake_delta_views('lake_ops', 'lake_ops', var('core:ops_path'))) }}
{% endmacro %}
