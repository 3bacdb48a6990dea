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
  {%- if execute -%}
    {%- set location = var('core:ops_path') ~ "/lineage" -%}
    {%- set log_files = run_query("select count(*) from glob('" ~ location ~ "/_delta_log/*.json')").columns[0].values()[0] -%}
    {%- if log_files > 0 -%}
      {%- set body = "select * from delta_scan('" ~ location ~ "')" -%}
    {%- else -%}
      {%- set body = "select cast(null as varchar) as event_id, cast(null as timestamptz) as event_time,"
          ~ " cast(null as varchar) as event_type, cast(null as varchar) as run_id,"
          ~ " cast(null as varchar) as parent_run_id, cast(null as varchar) as job_namespace,"
          ~ " cast(null as varchar) as job_name, cast(null as varchar) as integration,"
          ~ " cast(null as struct(namespace varchar, name varchar, version varchar, \"rows\" bigint)[]) as inputs,"
          ~ " cast(null as struct(namespace varchar, name varchar, version varchar, \"rows\" bigint)[]) as outputs,"
          ~ " cast(null as bigint) as rows_in, cast(null as bigint) as rows_out, cast(null as varchar) as error,"
          ~ " cast(null as varchar) as event, cast(null as varchar) as event_file,"
          ~ " cast(null as timestamptz) as loaded_at where false" -%}
    {%- endif -%}
    {{ return("create schema if not exists lake_ops; create or replace view lake_ops.lineage as " ~ body) }}
  {%- endif -%}
{% endmacro %}
