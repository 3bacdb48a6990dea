-- 血缘运行: one row per OpenLineage run (a feed ingest, a dbt model or test, an Airflow task, a dashboard's
-- refresh), in its last state, with what it read and wrote (lake/ops/lineage, edulake.lineage.store).
-- Dataset names are the lake's and the warehouse's own (file names, table names): no personal data.
with events as (
    select * from {{ source('lake_ops', 'lineage') }}
),

ranked as (
    select
        *,
        min(event_time) over (partition by run_id) as started_at,
        row_number() over (
            partition by run_id
            order by event_time desc, case when event_type = 'START' then 1 else 0 end
        ) as recency
    from events
),

last_event as (
    select * from ranked
    where recency = 1
),

-- struct_extract rather than a lambda or dotted access: the same SQL parses for the linter (sqlfluff)
written as (
    select
        run_id,
        struct_extract(unnest(outputs), 'name') as output_name
    from last_event
),

output_names as (
    select
        run_id,
        string_agg(output_name, ', ' order by output_name) as outputs
    from written
    group by run_id
)

select
    last_event.run_id,
    last_event.parent_run_id,
    last_event.job_name,
    last_event.integration,
    case last_event.integration
        when 'EDULAKE' then '入湖'
        when 'DBT' then '数仓构建 (dbt)'
        when 'AIRFLOW' then '编排 (Airflow)'
        when 'SUPERSET' then '看板'
        else '其他'
    end as job_kind_cn,
    last_event.event_type as state,
    case last_event.event_type
        when 'COMPLETE' then '成功'
        when 'FAIL' then '失败'
        when 'ABORT' then '中止'
        else '运行中'
    end as state_cn,
    cast(last_event.started_at as timestamp) as started_at,
    cast(last_event.event_time as timestamp) as last_event_at,
    round(cast(epoch(last_event.event_time) - epoch(last_event.started_at) as double), 1) as seconds,
    cast(coalesce(len(last_event.inputs), 0) as integer) as input_count,
    cast(coalesce(len(last_event.outputs), 0) as integer) as output_count,
    last_event.rows_in,
    last_event.rows_out,
    output_names.outputs,
    last_event.error,
    -- city-wide figures: no district row-level filter lets a district role read them
    cast(null as {{ dbt.type_string() }}) as district_code
from last_event
left join output_names on last_event.run_id = output_names.run_id
