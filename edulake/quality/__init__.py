"""Data-standard validation: a pure compiler from schemas/ (via edulake.standard) to checks, no I/O.

  checks.py      every row check of a table (field rules, table rules, parse checks) with its SQL condition
  conditions.py  the table rules' SQL (the one implementation of each rule)
  normalise.py   typing and normalising raw text, as SQL
  batch.py       batch-level (fatal) rules over counts the lake reads
  stage.py       the whole validation and routing of a load as SQL, which each lake engine runs
  suites.py      the GX expectation suites generated from the same checks (expectations/)
The lake (edulake.lake) reads and writes, and runs GX on every load (lake/gx_run.py); this package only says
what to compute.
"""
