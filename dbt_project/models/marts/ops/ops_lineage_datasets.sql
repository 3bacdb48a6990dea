-- 血缘数据集: one row per dataset OpenLineage has seen (landing files, bronze / silver / quarantine tables,
-- warehouse models, dashboards): the last run that wrote it and the last that read it, with their rows.
with events as (
    select * from {{ source('lake_ops', 'lineage') }}
    where event_type in ('COMPLETE', 'FAIL')
),

touches as (
    select
        'write' as direction,
        job_name,
        event_time,
        unnest(outputs) as dataset
    from events
    union all
    select
        'read' as direction,
        job_name,
        event_time,
        unnest(inputs) as dataset
    from events
),

-- struct_extract rather than dotted access: the same SQL parses for the linter (sqlfluff)
flat as (
    select
        direction,
        job_name,
        event_time,
        struct_extract(dataset, 'namespace') as dataset_namespace,
        struct_extract(dataset, 'name') as dataset_name,
        struct_extract(dataset, 'rows') as dataset_rows
    from touches
),

ranked as (
    select
        *,
        row_number() over (
            partition by dataset_namespace, dataset_name, direction order by event_time desc
        ) as recency
    from flat
),

last_write as (
    select * from ranked
    where direction = 'write' and recency = 1
),

last_read as (
    select * from ranked
    where direction = 'read' and recency = 1
),

datasets as (
    select distinct
        dataset_namespace,
        dataset_name
    from flat
)

select
    datasets.dataset_namespace,
    datasets.dataset_name,
    case
        when datasets.dataset_namespace = 'edulake.warehouse' then '数仓模型'
        when datasets.dataset_namespace = 'edulake.superset' then '看板'
        when datasets.dataset_name like 'landing/%' then '落地文件'
        when datasets.dataset_name like 'restricted/bronze/%' then 'bronze 原始层'
        when datasets.dataset_name like 'restricted/quarantine/%' then '隔离区'
        when datasets.dataset_name like 'silver/%' then 'silver 明细层'
        else '其他'
    end as layer_cn,
    last_write.job_name as last_writer,
    cast(last_write.event_time as timestamp) as last_written_at,
    last_write.dataset_rows as rows_written,
    last_read.job_name as last_reader,
    cast(last_read.event_time as timestamp) as last_read_at,
    last_read.dataset_rows as rows_read,
    cast(null as {{ dbt.type_string() }}) as district_code
from datasets
left join last_write
    on
        datasets.dataset_namespace = last_write.dataset_namespace
        and datasets.dataset_name = last_write.dataset_name
left join last_read
    on
        datasets.dataset_namespace = last_read.dataset_namespace
        and datasets.dataset_name = last_read.dataset_name
