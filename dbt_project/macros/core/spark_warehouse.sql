{#- Spark target: every table dbt writes (seeds, models, snapshots, stored test failures) is a Delta table at
    <core:spark_warehouse_path>/<schema>/<name>. The files are the warehouse: any Delta reader (Spark,
    DuckDB's delta_scan, delta-rs) opens the marts by path, whichever catalog the session has. Overrides
    dbt-spark's location_clause (dispatched in the 'dbt' namespace: the root project's version wins). -#}
{% macro spark__location_clause() %}
  location '{{ var("core:spark_warehouse_path") }}/{{ model.schema }}/{{ model.alias }}'
{%- endmacro %}
