{#- The one registry of surrogate keys (in the manner of edu_wh's gen_skey): every key the models
    carry is named here with the natural-key parts it hashes, and built by dbt_utils'
    generate_surrogate_key. Students get an annualised key and a cross-year key; no two names may
    hash the same parts (a record whose grain is one student and year carries student_key).
    The pseudonym token never reaches the core model: facts and dim_student carry only these keys. -#}
{% macro edulake_key_registry() %}
  {{ return({
      'student_key': ['student_token', 'school_year'],
      'student_xyear_key': ['student_token'],
      'status_change_key': ['student_token', 'change_type', 'change_date'],
      'vision_screening_key': ['student_token', 'screening_date'],
      'exam_score_key': ['exam_id', 'subject', 'student_token'],
      'school_condition_key': ['school_id', 'school_year', 'stage'],
      'census_key': ['school_id', 'school_year', 'grade'],
      'birth_key': ['district_code', 'birth_year'],
  }) }}
{% endmacro %}

{#- `<hash> as <key_name>`; `alias` qualifies the parts (e.g. 'r' -> r.student_token). -#}
{% macro gen_skey(key_name, alias=none) %}
  {%- set registry = edulake_key_registry() -%}
  {%- if key_name not in registry -%}
    {{ exceptions.raise_compiler_error("unknown surrogate key '" ~ key_name ~ "'; registered: "
                                       ~ registry.keys() | list | join(', ')) }}
  {%- endif -%}
  {%- set seen = {} -%}
  {%- for name, parts in registry.items() -%}
    {%- set signature = parts | join('|') -%}
    {%- if signature in seen -%}
      {{ exceptions.raise_compiler_error("surrogate keys '" ~ seen[signature] ~ "' and '" ~ name
                                         ~ "' hash the same parts: keep one") }}
    {%- endif -%}
    {%- do seen.update({signature: name}) -%}
  {%- endfor -%}
  {%- set parts = [] -%}
  {%- for part in registry[key_name] -%}
    {%- do parts.append((alias ~ '.' ~ part) if alias else part) -%}
  {%- endfor -%}
  {{ dbt_utils.generate_surrogate_key(parts) }} as {{ key_name }}
{%- endmacro %}
