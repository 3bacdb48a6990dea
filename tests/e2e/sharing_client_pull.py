"""Run by the official client's own interpreter (.sharing-client-venv), as a district would:
`python sharing_client_pull.py <profile file>` -> JSON on stdout {table: {rows, districts}}.
Not a test module (no test_ prefix): it cannot import edulake, and needs nothing but delta-sharing."""

import json
import sys

import delta_sharing

profile = sys.argv[1]
client = delta_sharing.SharingClient(profile)
out = {"shares": [s.name for s in client.list_shares()], "tables": {}}
for t in client.list_all_tables():
    df = delta_sharing.load_as_pandas(f"{profile}#{t.share}.{t.schema}.{t.name}")
    out["tables"][t.name] = {"rows": len(df), "districts": sorted({str(v) for v in df["district_code"]}),
                             "columns": list(df.columns),
                             "sample": json.loads(df.head(50).to_json(orient="records", force_ascii=False))}
print(json.dumps(out, ensure_ascii=False))
