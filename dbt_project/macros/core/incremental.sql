{#- Incremental builds (edulake.warehouse.incremental decides full or incremental and passes the moment).

    `edulake build` sets EDULAKE_DBT_CHANGED_SINCE (UTC, 'YYYY-MM-DD HH:MM:SS.ffffff') to when the
    previous green build took the lake's lock: every silver row loaded later is new or a corrected version
    of a row (silver is merged on the natural key). An incremental model recomputes the keys of those rows
    only and replaces them (unique_key: DuckDB delete+insert, Spark a Delta MERGE, dbt_project.yml). Silver
    never deletes rows in ingestion; a build after anything that may have (a rewrite, a DELETE) is a full one.
    A build without it on existing tables is refused: it would append every row again. -#}

{% macro edulake_since() -%}
  {%- set since = env_var('EDULAKE_DBT_CHANGED_SINCE', '') -%}
  {#- a unit test renders the model with no relation of its own: never incremental -#}
  {%- set incremental = this is not none and is_incremental() -%}
  {%- if incremental and not since -%}
    {{ exceptions.raise_compiler_error(this ~ " is incremental: build it with `edulake build` (which sets "
        ~ "EDULAKE_DBT_CHANGED_SINCE), or with --full-refresh") }}
  {%- endif -%}
  {{ return(since if incremental else none) }}
{%- endmacro %}

{#- A UTC timestamp literal comparable with silver's _loaded_at (timestamp with time zone on DuckDB). -#}
{% macro edulake_utc_timestamp(text) -%}
  {{ return(adapter.dispatch('edulake_utc_timestamp', 'edulake')(text)) }}
{%- endmacro %}
{% macro default__edulake_utc_timestamp(text) -%} cast('{{ text }}+00:00' as timestamp) {%- endmacro %}
{% macro duckdb__edulake_utc_timestamp(text) -%} cast('{{ text }}+00:00' as timestamptz) {%- endmacro %}

{#- The rows of a staging relation to (re)compute: all of them in a full build; in an incremental one those
    loaded since the last build, and, when `schools` (stg_reference__school) is given, those of a school whose
    reference row was loaded since (its district may have changed). Use in a where clause. -#}
{% macro edulake_changed(schools=none, alias=none) -%}
  {%- set since = edulake_since() -%}
  {%- set prefix = (alias ~ '.') if alias else '' -%}
  {%- if since is none -%}
    true
  {%- else -%}
    ({{ prefix }}_loaded_at >= {{ edulake_utc_timestamp(since) }}
    {%- if schools is not none %}
     or {{ prefix }}school_id in (
         select changed_school.school_id from {{ schools }} as changed_school
         where changed_school._loaded_at >= {{ edulake_utc_timestamp(since) }})
    {%- endif -%})
  {%- endif -%}
{%- endmacro %}

{#- Keys `key_name` (a registered surrogate key) of the staging rows changed since the last build, as a
    subquery's select; for models whose rows are not one per source row (a record's item scores). -#}
{% macro edulake_changed_keys(key_name, relation, schools=none) -%}
  select {{ gen_skey(key_name) }} from {{ relation }} where {{ edulake_changed(schools) }}
{%- endmacro %}

{#- Pre-hook: remove the rows of the changed keys first, so a key whose new version yields fewer rows (or
    none: a fitness record with no scorable item) keeps none of its old ones. -#}
{% macro edulake_delete_changed(column, key_name, relation, schools=none) -%}
  {%- if edulake_since() is not none -%}
    delete from {{ this }} where {{ column }} in ({{ edulake_changed_keys(key_name, relation, schools) }})
  {%- endif -%}
{%- endmacro %}

{#- The feeds that name students, in the order int_student__school_years trusts their demographics. -#}
{% macro edulake_student_feeds() -%}
  {{ return([ref('stg_enrollment__student_enrollment'), ref('stg_health__fitness_test'),
             ref('stg_health__vision_screening'), ref('stg_exam__exam_score'),
             ref('stg_enrollment__student_status_change')]) }}
{%- endmacro %}

{#- The tokens of the students whose rows in any feed were loaded since the last build: a select. -#}
{% macro edulake_changed_students() -%}
  {%- for feed in edulake_student_feeds() %}
    select student_token from {{ feed }} where {{ edulake_changed() }}
    {% if not loop.last %}union all{% endif %}
  {%- endfor %}
{%- endmacro %}

{#- Where clause: the student's rows in any feed were loaded since the last build (true in a full build).
    `changed`: a relation (e.g. a CTE) holding edulake_changed_students(), for a model that filters several
    relations by it: the five feeds are then scanned for changed rows once, not once per filter. -#}
{% macro edulake_student_changed(token_column='student_token', changed=none) -%}
  {%- if edulake_since() is none -%}
    true
  {%- elif changed is not none -%}
    {{ token_column }} in (select student_token from {{ changed }})
  {%- else -%}
    {{ token_column }} in ({{ edulake_changed_students() }})
  {%- endif -%}
{%- endmacro %}
