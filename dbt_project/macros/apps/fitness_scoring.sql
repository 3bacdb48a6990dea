{#-
  国家学生体质健康标准（2014年修订）scoring — the ONE implementation.

  Used by the dbt mart (models/marts/health/) and by `edulake fitness score`, which renders
  these macros with plain Jinja and runs them on DuckDB over the same seed CSVs. So: plain
  Jinja only (no ref/var/return/adapter inside), portable SQL only (DuckDB and Spark), and
  every number comes from the seeds, never from this file.

  Inputs
    measurements: record_key, grade ('1'..'12', 'U12', 'U34'), sex ('1' 男 / '2' 女),
                  height_cm, weight_kg and the item columns below (null = not tested)
    standard:     seed health_fitness_standard_2014 (copy of shared/standards/physical_fitness_2014.csv)
    weights:      seed health_fitness_item_weights (grade, sex, item, weight_pct)
    levels:       seed health_fitness_levels (level, min_score)
-#}

{#- item code in the standard -> measurement column (silver field name) -#}
{%- macro fitness_item_columns() -%}
lung:lung_ml,run_50m:run_50m_s,sit_reach:sit_reach_cm,rope_1min:rope_1min,sit_up_1min:sit_up_1min,shuttle_50x8:shuttle_50x8_s,standing_long_jump:standing_long_jump_cm,pull_up:pull_up,run_800m:run_800m_s,run_1000m:run_1000m_s
{%- endmacro -%}


{#- Long form of `measurements`: one row per tested item (BMI from height and weight, to 0.1 like the
    tables), with record_key when `keyed`. The items are a cross join on a list rather than a union of one scan
    per item over a shared CTE: DuckDB materialises a CTE that is read more than once, and for eight school
    years at scale 1.0 that was 13 M wide records (read by eleven branches) and 85 M long rows (read twice),
    spilled to disk in a bounded pool. So nothing large here is a CTE read twice; callers render this twice. -#}
{%- macro fitness_long_form(measurements, keyed) -%}
{%- set pairs = fitness_item_columns().split(',') %}
{%- set key = 'record_key, ' if keyed else '' %}
select {{ key }}grade, sex_code, item, measured_value
from (
    select
        {{ 'base.record_key, ' if keyed else '' }}base.grade, base.sex_code, items.item,
        case items.item
            {%- for pair in pairs %}
            when '{{ pair.split(':')[0] }}' then base.{{ pair.split(':')[1] }}
            {%- endfor %}
            when 'bmi' then case when base.height_cm > 0
                                 then round(base.weight_kg / ((base.height_cm / 100.0) * (base.height_cm / 100.0)), 1)
                            end
        end as measured_value,
        case items.item
            {%- for pair in pairs %}
            when '{{ pair.split(':')[0] }}' then base.{{ pair.split(':')[1] }} is not null
            {%- endfor %}
            when 'bmi' then base.height_cm > 0 and base.weight_kg is not null
        end as is_tested
    from (
        select
            {{ key }}trim(cast(grade as string)) as grade,
            case trim(cast(sex as string)) when '1' then 'M' when '2' then 'F' end as sex_code,
            cast(height_cm as double) as height_cm,
            cast(weight_kg as double) as weight_kg
            {%- for pair in pairs %}
            , cast({{ pair.split(':')[1] }} as double) as {{ pair.split(':')[1] }}
            {%- endfor %}
        from {{ measurements }}
    ) as base
    cross join (
        {%- for pair in pairs %}
        select '{{ pair.split(':')[0] }}' as item union all
        {%- endfor %}
        select 'bmi' as item
    ) as items
) as long_form
where is_tested
{%- endmacro -%}


{#- One row per record and scored item (bmi included): the awarded score, the table row's
    confidence, and the weight of the item in the record's grade band. `measurements` is read twice (the
    records, and their distinct values): a relation or a subquery, not a CTE of the caller's. -#}
{%- macro fitness_item_scores(measurements, standard, weights) -%}
with fitness_std as (
    select
        row_type, item, trim(cast(grade as string)) as grade, sex,
        cast(score as double) as score,
        cast(threshold as double) as threshold,
        direction, category,
        cast(bmi_min as double) as bmi_min,
        cast(bmi_max as double) as bmi_max,
        cast(bonus_points as double) as bonus_points,
        confidence
    from {{ standard }}
),

fitness_weights as (
    select trim(cast(grade as string)) as grade, sex, item, cast(weight_pct as integer) as weight_pct
    from {{ weights }}
),

measured as (
    {{ fitness_long_form(measurements, true) }}
),

-- only items the student's grade band weighs are scored
applicable as (
    select m.record_key, m.grade, m.sex_code, m.item, m.measured_value, w.weight_pct
    from measured m
    join fitness_weights w on w.grade = m.grade and w.sex = m.sex_code and w.item = m.item
),

-- The standard's tables depend on (grade, sex, item, value) alone, and a year's millions of records hold only
-- tens of thousands of such values (scores are read to 0.1 s, 1 ml, 0.1 cm): each value is scored once, by the
-- range joins below, and the records look their value up with an equi-join. Scoring every record through the
-- range joins (every level a value meets is a joined row, grouped back) was the build's costliest model: at scale
-- 1.0, 47.5 s for one school year's records against 8.7 s this way (benchmarks/README.md, session 11).
measured_values as (
    select distinct grade, sex_code, item, measured_value
    from ({{ fitness_long_form(measurements, false) }}) as all_values
),

-- highest level whose threshold is met (>= higher is better, <= timed runs);
-- blank thresholds (引体向上 78/74/70/66/62) are not awardable
awarded as (
    select v.grade, v.sex_code, v.item, v.measured_value, max(s.score) as awarded_score
    from measured_values v
    left join fitness_std s
      on s.row_type = 'single_item' and s.item = v.item and s.grade = v.grade and s.sex = v.sex_code
     and s.threshold is not null
     and ((s.direction = 'higher_is_better' and v.measured_value >= s.threshold)
       or (s.direction = 'lower_is_better' and v.measured_value <= s.threshold))
    where v.item <> 'bmi'
    group by v.grade, v.sex_code, v.item, v.measured_value
),

table_confidence as (
    select item, grade, sex, max(case when confidence = 'high' then 0 else 1 end) as has_unverified_rows
    from fitness_std where row_type = 'single_item'
    group by item, grade, sex
),

single_items as (
    select w.grade, w.sex_code, w.item, w.measured_value,
           coalesce(w.awarded_score, 0) as item_score,
           cast(null as string) as bmi_category,
           -- below the lowest level: flag when the table for the item has unverified rows
           case when w.awarded_score is null then coalesce(t.has_unverified_rows, 1)
                else max(case when s.confidence = 'high' then 0 else 1 end) end as is_low_confidence_int
    from awarded w
    left join fitness_std s
      on s.row_type = 'single_item' and s.item = w.item and s.grade = w.grade and s.sex = w.sex_code
     and s.score = w.awarded_score
    left join table_confidence t on t.item = w.item and t.grade = w.grade and t.sex = w.sex_code
    group by w.grade, w.sex_code, w.item, w.measured_value, w.awarded_score, t.has_unverified_rows
),

-- BMI tables are per school grade, one table ('U') for university
bmi_items as (
    select v.grade, v.sex_code, v.item, v.measured_value,
           coalesce(max(s.score), 0) as item_score,
           max(s.category) as bmi_category,
           max(case when s.confidence = 'high' then 0 else 1 end) as is_low_confidence_int
    from measured_values v
    left join fitness_std s
      on s.row_type = 'bmi' and s.sex = v.sex_code
     and s.grade = case when v.grade like 'U%' then 'U' else v.grade end
     and (s.bmi_min is null or v.measured_value >= s.bmi_min)
     and (s.bmi_max is null or v.measured_value <= s.bmi_max)
    where v.item = 'bmi'
    group by v.grade, v.sex_code, v.item, v.measured_value
),

bonus as (
    select v.grade, v.sex_code, v.item, v.measured_value, max(s.bonus_points) as bonus_points,
           max(case when s.confidence = 'high' then 0 else 1 end) as is_low_confidence_int
    from measured_values v
    join fitness_std s
      on s.row_type = 'bonus' and s.item = v.item and s.grade = v.grade and s.sex = v.sex_code
     and ((s.direction = 'higher_is_better' and v.measured_value >= s.threshold)
       or (s.direction = 'lower_is_better' and v.measured_value <= s.threshold))
    group by v.grade, v.sex_code, v.item, v.measured_value
),

-- one row per (grade, sex, item, value)
value_scores as (
    select sc.grade, sc.sex_code, sc.item, sc.measured_value, sc.item_score, sc.bmi_category,
           coalesce(b.bonus_points, 0) as bonus_points,
           case when sc.is_low_confidence_int = 1 or b.is_low_confidence_int = 1 then true else false end
               as is_low_confidence
    from (
        select * from single_items
        union all
        select * from bmi_items
    ) as sc
    left join bonus b
      on b.grade = sc.grade and b.sex_code = sc.sex_code and b.item = sc.item and b.measured_value = sc.measured_value
)

select
    a.record_key,
    a.item,
    a.measured_value,
    a.weight_pct,
    v.item_score,
    v.bmi_category,
    v.bonus_points,
    v.is_low_confidence
from applicable a
join value_scores v
  -- null-safe on the value: a BMI can be NULL on Spark (a division overflowing with ANSI off); it scores 0
  on v.grade = a.grade and v.sex_code = a.sex_code and v.item = a.item
 and v.measured_value is not distinct from a.measured_value
{%- endmacro -%}


{#- One row per record: bmi, bmi_category, <item>_score, standard_score, bonus_score,
    total_score, level. A record missing an item its grade band requires gets no standard
    score (is_complete = false) rather than a silently low one. -#}
{%- macro fitness_record_scores(measurements, item_scores, weights, levels) -%}
{%- set pairs = fitness_item_columns().split(',') %}
with record_base as (
    select record_key,
           trim(cast(grade as string)) as grade,
           case trim(cast(sex as string)) when '1' then 'M' when '2' then 'F' end as sex_code
    from {{ measurements }}
),

required_items as (
    select trim(cast(grade as string)) as grade, sex, count(*) as n_required
    from {{ weights }}
    group by trim(cast(grade as string)), sex
),

per_record as (
    select
        record_key,
        count(*) as n_scored,
        -- weights and scores are whole numbers: the sum is exact, in hundredths of a point
        sum(weight_pct * item_score) as weighted_sum,
        sum(bonus_points) as bonus_sum,
        max(case when is_low_confidence then 1 else 0 end) as any_low_confidence,
        max(case when item = 'bmi' then measured_value end) as bmi,
        max(case when item = 'bmi' then bmi_category end) as bmi_category,
        max(case when item = 'bmi' then item_score end) as bmi_score
        {%- for pair in pairs %}
        , max(case when item = '{{ pair.split(':')[0] }}' then item_score end) as {{ pair.split(':')[0] }}_score
        {%- endfor %}
    from {{ item_scores }}
    group by record_key
),

totals as (
    select
        b.record_key,
        p.bmi, p.bmi_category, p.bmi_score
        {%- for pair in pairs %}, p.{{ pair.split(':')[0] }}_score{%- endfor %},
        case when p.n_scored = r.n_required then true else false end as is_complete,
        case when p.any_low_confidence = 1 then true else false end as is_low_confidence,
        -- round half up to 0.1 on the exact hundredths (Spark's floor gives a bigint: back to double)
        case when p.n_scored = r.n_required
             then cast(floor((p.weighted_sum + 5) / 10.0) as double) / 10.0 end as standard_score,
        case when p.n_scored = r.n_required then cast(coalesce(p.bonus_sum, 0) as double) end as bonus_score
    from record_base b
    left join per_record p on p.record_key = b.record_key
    left join required_items r on r.grade = b.grade and r.sex = b.sex_code
),

with_total as (
    select t.*, t.standard_score + t.bonus_score as total_score
    from totals t
),

-- each level's band of total scores, [its min_score, the next level's): one band per record, without grouping
-- the records again (13 M of them for eight school years)
level_bands as (
    select level, cast(min_score as double) as min_score,
           lead(cast(min_score as double)) over (order by cast(min_score as double)) as next_min_score
    from {{ levels }}
)

select w.*, l.level
from with_total w
left join level_bands l
  on w.total_score >= l.min_score
 and (l.next_min_score is null or w.total_score < l.next_min_score)
{%- endmacro -%}
