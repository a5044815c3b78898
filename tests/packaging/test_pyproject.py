"""pyproject.toml lists every package (its list is explicit so that resources/ can ship as parcero_resources)."""

from __future__ import annotations

import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _setuptools_config() -> dict:
    with open(REPO / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["tool"]["setuptools"]


def test_every_package_of_app_and_engine_is_listed():
    on_disk = {".".join(p.parent.relative_to(REPO).parts)
               for top in ("app", "engine") for p in (REPO / top).rglob("__init__.py")}
    listed = set(_setuptools_config()["packages"])
    assert on_disk - listed == set(), "add these to [tool.setuptools] packages in pyproject.toml"
    assert listed - on_disk == {"parcero_resources"}


def test_resources_ship_as_parcero_resources_with_all_their_files():
    config = _setuptools_config()
    assert config["package-dir"] == {"parcero_resources": "resources"}
    assert config["package-data"]["parcero_resources"] == ["**/*"]
