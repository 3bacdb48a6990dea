{#-
  What: facts whose school id is not in the school registry (dim_school inferred members).
  When it matters: district and school figures leave those rows out of named schools (no name,
  running type or district); a registry delivery is late or a school was quarantined at ingestion.
  How to resolve: look up the ids below in restricted/quarantine/reference and the latest 学校名录;
  fix the registry at the source and re-ingest reference, then `edulake build`.
-#}
{{ config(severity='warn') }}

select
    s.school_id,
    r.first_referenced_by,
    r.feeds
from {{ ref('dim_school') }} as s
inner join {{ ref('int_school__referenced') }} as r on s.school_id = r.school_id
where not s.is_in_registry
