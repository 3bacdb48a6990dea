"""共享交换 and 数据服务: what the 16 districts pull from the platform.

- `extract`  — a versioned, byte-reproducible data package per district (Parquet + CSV with BOM + manifest).
- `shares`   — the shared tables as Delta tables partitioned by district, for the Delta Sharing server.
- `sharing_app` — the Delta Sharing protocol server (FastAPI); `api_app` — the data service API (FastAPI).
- `tokens`, `audit`, `signing` — who may read what, the record of every access, signed file URLs.
- `serve`    — start/stop both servers on 127.0.0.1.

Everything reads the published warehouse read-only (and nothing from the restricted zone), whichever
lake engine wrote silver.
"""
