{#- dbt-spark behaviours the Spark target needs changed (root-project versions of 'dbt'-namespace
    dispatches win over the adapter's). -#}

{#- Seeds: dbt-spark's session method formats each binding as '<value>' with no escaping, so a NULL
    becomes the text 'None' and a value holding a quote breaks the statement. Rows are written as
    literals here instead: NULL as null, everything else a quoted, escaped literal cast to the column
    type (the same agate inference DuckDB's seeds use). -#}
{% macro spark__load_csv_rows(model, agate_table) %}
  {%- set column_override = model['config'].get('column_types', {}) -%}
  {%- set types = [] -%}
  {%- for col_name in agate_table.column_names -%}
    {%- do types.append(column_override.get(col_name, adapter.convert_type(agate_table, loop.index0))) -%}
  {%- endfor -%}
  {%- set statements = [] -%}
  {%- for chunk in agate_table.rows | batch(get_batch_size()) -%}
    {%- set sql -%}
      insert into {{ this.render() }} values
      {% for row in chunk -%}
        ({%- for value in row -%}
          cast({{ edulake_spark_literal(value) }} as {{ types[loop.index0] }}){%- if not loop.last %}, {% endif -%}
        {%- endfor -%}){%- if not loop.last %},{% endif %}
      {% endfor %}
    {%- endset -%}
    {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
    {%- if loop.first -%}{%- do statements.append(sql) -%}{%- endif -%}
  {%- endfor -%}
  {{ return(statements[0] if statements else '') }}
{% endmacro %}

{#- Seeds: dbt-spark resets a seed by dropping the table and creating it again with `create table … location`.
    The table is external (it has a location): the drop keeps its files, and a create over them adopts their
    rows, so the insert appended the seed to last build's. The table is replaced in place instead
    (`create or replace`; edulake build names every existing table first, so this is Delta's REPLACE). -#}
{% macro spark__reset_csv_table(model, full_refresh, old_relation, agate_table) %}
  {{ return(create_csv_table(model, agate_table)) }}
{% endmacro %}

{% macro spark__create_csv_table(model, agate_table) %}
  {%- set column_override = model['config'].get('column_types', {}) -%}
  {%- set quote_seed_column = model['config'].get('quote_columns', None) -%}
  {%- set sql -%}
    create or replace table {{ this.render() }} (
        {%- for col_name in agate_table.column_names -%}
            {%- set type = column_override.get(col_name, adapter.convert_type(agate_table, loop.index0)) -%}
            {{ adapter.quote_seed_column(col_name | string, quote_seed_column) }} {{ type }} {%- if not loop.last -%}, {%- endif -%}
        {%- endfor -%}
    )
    {{ file_format_clause() }}
    {{ location_clause() }}
    {{ comment_clause() }}
  {%- endset -%}
  {%- call statement('_') -%}{{ sql }}{%- endcall -%}
  {{ return(sql) }}
{% endmacro %}

{% macro edulake_spark_literal(value) -%}
  {%- if value is none -%}null
  {%- else -%}'{{ value | string | replace("\\", "\\\\") | replace("'", "\\'") }}'
  {%- endif -%}
{%- endmacro %}

{#- Contracts: dbt-spark adds a not_null constraint with ALTER TABLE … SET NOT NULL, which open-source
    Delta refuses ("Cannot change nullable column to non-nullable"). The contract is enforced by a
    check of the built table instead: one scan, and the build fails naming the columns holding NULLs.
    (DuckDB enforces the same constraints in its CREATE TABLE.) Other constraint types on columns keep
    dbt-spark's warning. -#}
{% macro spark__alter_column_set_constraints(relation, column_dict) %}
  {%- set not_null = [] -%}
  {%- for column_name in column_dict -%}
    {%- for constraint in column_dict[column_name]['constraints'] -%}
      {%- if constraint.type == 'not_null' -%}{%- do not_null.append(column_name) -%}
      {%- else -%}{{ exceptions.warn('Invalid constraint for column ' ~ column_name ~ '. Only `not_null` is supported.') }}
      {%- endif -%}
    {%- endfor -%}
  {%- endfor -%}
  {%- if not_null -%}
    {%- set check -%}
      select {% for c in not_null %}count_if({{ c }} is null) as {{ c }}{% if not loop.last %}, {% endif %}{% endfor %}
      from {{ relation }}
    {%- endset -%}
    {%- set counts = run_query(check) -%}
    {%- set offenders = [] -%}
    {%- for c in not_null -%}
      {%- if counts.columns[loop.index0].values()[0] > 0 -%}{%- do offenders.append(c) -%}{%- endif -%}
    {%- endfor -%}
    {%- if offenders -%}
      {{ exceptions.raise_compiler_error("contract of " ~ relation ~ ": NULL in not_null column(s) " ~ offenders | join(', ')) }}
    {%- endif -%}
  {%- endif -%}
{% endmacro %}

{#- listagg: dbt-spark's version drops the ORDER BY (collect_list, with a warning), so the order of the
    listed names would follow the shuffle. Spark 4 has listagg … WITHIN GROUP (ORDER BY …): the same
    order as DuckDB's string_agg. -#}
{% macro spark__listagg(measure, delimiter_text, order_by_clause, limit_num) -%}
  {%- if limit_num -%}
    {{ exceptions.raise_compiler_error("listagg with limit_num is not implemented for Spark in this project") }}
  {%- endif -%}
  listagg({{ measure }}, {{ delimiter_text }}){% if order_by_clause %} within group ({{ order_by_clause }}){% endif %}
{%- endmacro %}

{#- date_spine: dbt's portable version numbers the days with a cross join of 2-row unions and a
    row_number() over one partition (tens of seconds on Spark for dim_date's 13k days); Spark generates the
    same days with sequence(). Same rows as dbt's: from start_date, before end_date. -#}
{% macro spark__date_spine(datepart, start_date, end_date) %}
  {%- if datepart not in ('day', 'week', 'month', 'year') -%}
    {{ exceptions.raise_compiler_error("spark__date_spine: datepart " ~ datepart ~ " is not implemented") }}
  {%- endif %}
    select date_{{ datepart }}
    from (
        select explode(sequence(cast({{ start_date }} as date), cast({{ end_date }} as date),
                                interval 1 {{ datepart }})) as date_{{ datepart }}
    )
    where date_{{ datepart }} < cast({{ end_date }} as date)
{% endmacro %}
