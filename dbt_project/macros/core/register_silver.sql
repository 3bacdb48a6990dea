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

{#- A silver table not loaded yet (e.g. only the reference feed has arrived) is an empty view with the
    standard's columns (the source's data_type, generated from schemas/) and silver's lineage columns
    (edulake.lake.silver.schema): the warehouse builds on what the lake holds instead of failing. -#}
{% macro duckdb__edulake_register_silver() %}
  {{ return(edulake_delta_views('silver', 'silver', var('core:silver_path'),
                                ["cast(null as varchar[]) as _warnings", "cast(null as varchar) as _batch_id",
                                 "cast(null as varchar) as _source_file", "cast(null as integer) as _row_number",
                                 "cast(null as timestamp) as _loaded_at"])) }}
{% endmacro %}


{#- DuckDB: one view <schema>.<table> per table of the dbt source `source_name`, over the Delta table at
    <base_path>/<table>; a table with no Delta log yet is an empty view of the source's declared columns (plus
    `extra_columns`, SQL select items), so the warehouse builds on what the lake holds. Shared by the silver
    views and the 运行监测 views (lake_ops). -#}
{% macro edulake_delta_views(source_name, schema, base_path, extra_columns=[]) %}
  {%- if execute -%}
    {%- set statements = ['create schema if not exists ' ~ schema] -%}
    {%- for node in graph.sources.values() if node.source_name == source_name -%}
      {%- set location = base_path ~ "/" ~ node.name -%}
      {%- set log_files = run_query("select count(*) from glob('" ~ location ~ "/_delta_log/*.json')").columns[0].values()[0] -%}
      {%- if log_files > 0 -%}
        {%- do statements.append("create or replace view " ~ schema ~ "." ~ node.name ~ " as select * from delta_scan('"
                                ~ location ~ "')") -%}
      {%- else -%}
        {%- do log(schema ~ "." ~ node.name ~ " not written yet: an empty view stands in for it", info=true) -%}
        {%- set columns = [] -%}
        {%- for column in node.columns.values() -%}
          {%- do columns.append("cast(null as " ~ column.data_type ~ ") as \"" ~ column.name ~ "\"") -%}
        {%- endfor -%}
        {%- do columns.extend(extra_columns) -%}
        {%- do statements.append("create or replace view " ~ schema ~ "." ~ node.name ~ " as select "
                                ~ columns | join(", ") ~ " where false") -%}
      {%- endif -%}
    {%- endfor -%}
    {{ return(statements | join(';\n')) }}
  {%- endif -%}
{% endmacro %}
