"""The leadership cockpit (领导驾驶舱) in Superset, provisioned as code; Superset runs in its own environment.

`provision(port=None, start=True)` -> cockpit URL: what `edulake superset setup` and `edulake run` call.
"""

from __future__ import annotations


def provision(port: int | None = None, start: bool = True, progress=lambda msg: None) -> str | None:
    from edulake.superset.provisioning import provision as _provision

    return _provision(port=port, start=start, progress=progress)


def cockpit_url(port: int | None = None) -> str:
    from edulake.superset import config

    return f"{config.base_url(port)}/superset/dashboard/cockpit/"
