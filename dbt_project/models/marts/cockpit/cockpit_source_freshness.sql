-- 数据新鲜度: per silver table, when it was last loaded (int_silver__load_times: max(_loaded_at),
-- the figure `dbt source freshness` computes in the build DAG) against the source's own freshness
-- policy (config.freshness in _silver__sources.yml, read from the project graph: stated once).
-- Age and status are as of this build.
{%- set period_days = {'minute': 1.0 / 1440, 'hour': 1.0 / 24, 'day': 1.0} %}
{%- set warn_days = {} %}
{%- set error_days = {} %}
{%- if execute %}
    {%- for node in graph.sources.values() if node.source_name == 'silver' %}
        {%- set policy = node.freshness %}
        {%- do warn_days.update({node.name: policy.warn_after.count * period_days[policy.warn_after.period]}) %}
        {%- do error_days.update({node.name: policy.error_after.count * period_days[policy.error_after.period]}) %}
    {%- endfor %}
{%- endif %}

with loaded as (
    select * from {{ ref('int_silver__load_times') }}
),

aged as (
    select
        loaded.*,
        -- the adapter's datediff renders as one long expression
        {{ dbt.datediff('loaded.last_loaded_at', dbt.current_timestamp(), 'second') }} / 86400.0 as age_days,  -- noqa: LT05
        case loaded.source_table
            {%- for name, days in warn_days.items() %}
                when '{{ name }}' then {{ days }}
            {%- endfor %}
        end as warn_after_days,
        case loaded.source_table
            {%- for name, days in error_days.items() %}
                when '{{ name }}' then {{ days }}
            {%- endfor %}
        end as error_after_days
    from loaded
)

select
    source_table,
    source_table_cn,
    cast(last_loaded_at as timestamp) as last_loaded_at,
    row_count,
    round(cast(age_days as double), 2) as age_days,
    cast(warn_after_days as double) as warn_after_days,
    cast(error_after_days as double) as error_after_days,
    case
        when last_loaded_at is null then '未加载'
        when age_days > error_after_days then '过期'
        when age_days > warn_after_days then '预警'
        else '正常'
    end as freshness_status,
    -- city-wide figures: no district row-level filter lets a district role read them
    cast(null as {{ dbt.type_string() }}) as district_code
from aged
