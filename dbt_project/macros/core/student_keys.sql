{#- The one registry of student surrogate keys (see edulake_key). The pseudonym token never reaches the
    core model: facts and dim_student carry only these keys.
    student_key:        one student in one school year (md5 of "<token>|<school year>")
    student_xyear_key:  the same student across years (md5 of "<token>") -#}
{% macro edulake_student_key(token, school_year) -%}
  {{ edulake_key([token, school_year]) }}
{%- endmacro %}

{% macro edulake_student_xyear_key(token) -%}
  {{ edulake_key([token]) }}
{%- endmacro %}
