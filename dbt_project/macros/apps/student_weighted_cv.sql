{#-
  校际差异系数 (student-weighted coefficient of variation), 教督〔2017〕6号 method as written
  out in shared/standards/balanced_development_2017.md §3:

    x_i = numerator_i / students_i        (the school's indicator value)
    x̄   = Σ numerator_i / Σ students_i    (the district's AGGREGATE ratio, not the mean of x_i)
    S   = sqrt( Σ (n_i / N) · (x_i − x̄)² ),  CV = S / x̄

  `school_values` has the `group_by` columns, `students` and `numerator` (already ×100 for the
  "每百名学生" indicators). Plain Jinja + portable SQL: the worked example is rendered and run
  on DuckDB by tests/unit/test_inspection_cv.py, and the dbt model uses the same macro.
  Schools with no students carry no weight and are left out.
-#}
{%- macro student_weighted_cv(school_values, group_by) -%}
with cv_input as (
    select {{ group_by | join(', ') }},
           cast(students as double) as students,
           cast(numerator as double) as numerator
    from {{ school_values }}
    where students > 0
),

cv_district as (
    select {{ group_by | join(', ') }},
           count(*) as schools,
           sum(students) as total_students,
           sum(numerator) / sum(students) as district_value
    from cv_input
    group by {{ group_by | join(', ') }}
)

select
    {%- for col in group_by %}
    d.{{ col }},
    {%- endfor %}
    d.schools,
    d.total_students,
    d.district_value,
    sqrt(sum(i.students / d.total_students
             * (i.numerator / i.students - d.district_value) * (i.numerator / i.students - d.district_value)))
        as weighted_sd,
    case when d.district_value > 0
         then sqrt(sum(i.students / d.total_students
                       * (i.numerator / i.students - d.district_value) * (i.numerator / i.students - d.district_value)))
              / d.district_value
    end as cv
from cv_district d
join cv_input i
  on {% for col in group_by %}i.{{ col }} = d.{{ col }}{% if not loop.last %} and {% endif %}{% endfor %}
group by {% for col in group_by %}d.{{ col }}, {% endfor %}d.schools, d.total_students, d.district_value
{%- endmacro -%}
