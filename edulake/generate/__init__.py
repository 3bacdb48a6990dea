"""The synthetic Beijing source generator: `run_generate(scale, seed, out, ...)` writes every feed and
the defect manifest (defects.json)."""

from edulake.generate.generator import run_generate

__all__ = ["run_generate"]
