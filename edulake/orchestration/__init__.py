"""Orchestration with Airflow 3: the embedded Airflow (config, start/stop), the task bodies the DAGs in
dags/ call, the run log ops/runs, and `edulake run` end to end through Airflow.

Modules:
    config    the embedded Airflow configuration, as environment variables (no airflow.cfg edits)
    assets    the Airflow Assets: one per silver entity (derived from schemas/) and the warehouse
    inbox     which inbox files are new (sha256 not in the batch ledger), read without a JVM
    runlog    ops/runs (Delta, written with deltalake) and the task/DAG callbacks that fill it
    tasks     what each DAG task does (the DAG files stay thin)
    server    starting and stopping the embedded Airflow on 127.0.0.1
    client    the Airflow REST API: token, trigger, wait
    pipeline  `edulake run`: generate -> Airflow -> ingest DAGs -> build DAG -> URLs
"""
