"""The generator works for every seed at every small scale (issue 19, item 6): a small district's year can
have no row of some kind (no one tested for an item, no class), and that must not break a run."""

from __future__ import annotations

import json

import pytest

from edulake.generate import run_generate

SEEDS = range(1, 11)
SCALES = (0.0005, 0.001, 0.002)
# Two school years keep the 30 runs affordable; the failures this guards against came from tiny
# district-years, which the first years of a run have as much as the later ones.
YEARS = (2018, 2019)


@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("seed", SEEDS)
def test_generate_works_for_every_seed_and_small_scale(tmp_path, seed, scale):
    manifest = run_generate(scale=scale, seed=seed, out=tmp_path, years=YEARS, progress=False)
    written = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()}
    assert written - {"defects.json"} == set(manifest["files"])
    assert {key.split("/")[0] for key in manifest["files"]} == {"reference", "enrollment", "health", "exam", "facility"}
    assert all(f["rows"] > 0 for key, f in manifest["files"].items() if key.startswith("enrollment/学籍名册"))
    assert json.loads((tmp_path / "defects.json").read_text(encoding="utf-8")) == manifest
    assert {d["file"] for d in manifest["defects"]} <= written
