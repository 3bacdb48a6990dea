-- One row per test record and scored item (BMI included). The SQL is the shared macro that
-- `edulake fitness score` also runs: one implementation of the 2014 standard.
-- Incremental: only the records whose test row was loaded since the last build are scored; their old item rows
-- are removed first (pre-hook).
{%- set changed_records = edulake_changed_keys('student_key', ref('stg_health__fitness_test')) %}
{{ config(materialized='incremental', unique_key=['record_key', 'item'],
          pre_hook="{{ edulake_delete_changed('record_key', 'student_key', ref('stg_health__fitness_test')) }}") }}

{% if edulake_since() is none -%}
{{ fitness_item_scores(ref('int_health__fitness_measurements'),
                       ref('health_fitness_standard_2014'),
                       ref('health_fitness_item_weights')) }}
{%- else -%}
{{ fitness_item_scores('(select * from ' ~ ref('int_health__fitness_measurements')
                           ~ ' where record_key in (' ~ changed_records ~ ')) as changed_measurements',
                       ref('health_fitness_standard_2014'),
                       ref('health_fitness_item_weights')) }}
{%- endif %}
