-- 运行告警: overdue deliveries and failure-rate jumps (edulake.monitoring.alerts, lake/ops/alerts), one row
-- per alert with when it was first and last seen. "table" stays quoted: TABLE is a keyword in DuckDB.
select
    alert_id,
    kind,
    case kind when 'overdue' then '逾期未报送' when 'quality_jump' then '质量失败率突增' end as kind_cn,
    feed,
    "table" as table_name,  -- noqa: RF06
    district_code,
    batch_id,
    previous_batch_id,
    source_file,
    rule as rule_name,
    "column" as column_name,
    observed as observed_value,
    previous as previous_value,
    threshold,
    failed as failed_rows,
    due_date,
    period_start,
    message,
    first_seen_at,
    last_seen_at
from {{ source('lake_monitoring', 'alerts') }}
