{#- The census day (普查日) of a school year: var core:census_day (MM-DD) in its first calendar year. -#}
{% macro edulake_census_date(school_year_expr) -%}
  cast({{ dbt.concat([edulake_text(school_year_expr), "'-" ~ var('core:census_day') ~ "'"]) }} as date)
{%- endmacro %}
