"""spark-submit entry point: the silver step of lake ingestion (see edulake/lake/jobs.py for usage)."""

import sys

from edulake.lake.jobs import main

if __name__ == "__main__":
    sys.exit(main("silver"))
