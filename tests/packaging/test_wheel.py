"""The wheel carries everything Parcero needs: built, installed into a fresh environment, and run from there.

The fresh environment gets Parcero with ``--no-deps``; a ``.pth`` file lends it the
big dependencies (torch, PySide6...) of the environment running the tests, so no
gigabytes are downloaded. Its commands run from a folder outside the checkout, so
a file missing from the wheel cannot be found in the source tree instead.

Until the real demo model and samples exist, the wheel is built from a copy of the
checkout holding the tests' tiny model and one tone sample in their place.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

import engine
from engine.resources import DEMO_MODEL
from tests.packaging.fake_resources import SAMPLE_TEXT, make_resources

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
JUNK = shutil.ignore_patterns("__pycache__", "*.pyc", ".*")


def real_demo_present() -> bool:
    return all((REPO / "resources" / "models" / DEMO_MODEL / n).is_file() for n in ("model.safetensors", "config.json"))


@pytest.fixture(scope="module")
def source_tree(tmp_path_factory, saved_model_dir) -> Path:
    """What a source distribution holds: a copy, so that building writes nothing into the checkout."""
    src = tmp_path_factory.mktemp("wheel") / "parcero"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, src / name)
    for name in ("app", "engine", "resources"):
        shutil.copytree(REPO / name, src / name, ignore=JUNK)
    if not real_demo_present():
        shutil.rmtree(src / "resources" / "models" / DEMO_MODEL, ignore_errors=True)
        shutil.rmtree(src / "resources" / "samples", ignore_errors=True)
        make_resources(src / "resources", saved_model_dir)
    return src


@pytest.fixture(scope="module")
def wheel(source_tree) -> Path:
    out = source_tree.parent / "dist"
    result = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out),
                             str(source_tree)], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    (path,) = out.glob("parcero-*.whl")
    return path


@pytest.fixture(scope="module")
def fresh_env(wheel, tmp_path_factory) -> Path:
    venv = tmp_path_factory.mktemp("venv") / "fresh"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    result = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps",
                             "--no-index", str(wheel)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    # Only now lend it our dependencies: pip must not see (let alone touch) this environment's editable parcero.
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    ours = dict.fromkeys([sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])
    (site / "zz_parcero_test_dependencies.pth").write_text("".join(f"{p}\n" for p in ours))
    return venv


def run_installed(venv: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PARCERO_RESOURCES_DIR")}
    env["PARCERO_DATA_DIR"] = str(cwd / "data")
    return subprocess.run([str(venv / "bin" / args[0]), *args[1:]], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=300)


def test_the_wheel_holds_every_module_and_every_resource(wheel, source_tree):
    names = set(zipfile.ZipFile(wheel).namelist())
    modules = {p.relative_to(source_tree).as_posix() for top in ("app", "engine")
               for p in (source_tree / top).rglob("*.py")}
    assert modules - names == set()
    shipped = {("parcero_resources" / p.relative_to(source_tree / "resources")).as_posix()
               for p in (source_tree / "resources").rglob("*") if p.is_file() and p.name != "README.md"}
    assert shipped - names == set()
    for needed in (f"models/{DEMO_MODEL}/model.safetensors", f"models/{DEMO_MODEL}/config.json",
                   "samples/samples.jsonl", "icons/hicolor/scalable/apps/io.github.parcero.Parcero.svg",
                   "icons/hicolor/256x256/apps/io.github.parcero.Parcero.png", "recipes/demo-es.toml"):
        assert f"parcero_resources/{needed}" in names
    assert not [n for n in names if "__pycache__" in n or n.startswith(("tests/", "resources/"))]
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "parcero = engine.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_installed_parcero_runs_from_its_own_copy(fresh_env, tmp_path):
    result = run_installed(fresh_env, "parcero", "--version", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"parcero {engine.__version__}"
    probe = ("import json, app.main, engine, engine.resources as r; "
             "print(json.dumps([engine.__file__, app.main.__file__, str(r.resources_dir()), "
             "str(r.bundled_models_dir()), len(r.icon_files())]))")
    result = run_installed(fresh_env, "python", "-c", probe, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    engine_file, app_file, resources, models, icons = json.loads(result.stdout)
    for path in (engine_file, app_file, resources):
        assert Path(path).is_relative_to(fresh_env) and not Path(path).is_relative_to(REPO)
    assert Path(resources).name == "parcero_resources" and Path(models) == Path(resources) / "models"
    assert icons >= 8


def test_installed_parcero_lists_and_transcribes_the_bundled_sample(fresh_env, tmp_path):
    result = run_installed(fresh_env, "parcero", "models", "list", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert any(line.split()[0] == DEMO_MODEL and line.split()[-1] == "bundled" for line in result.stdout.splitlines())
    probe = ("import json, engine.resources as r; s = r.bundled_samples()[0]; "
             "print(json.dumps([str(r.demo_model_dir()), str(s.path), s.text]))")
    result = run_installed(fresh_env, "python", "-c", probe, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    model, sample, text = json.loads(result.stdout)
    assert Path(sample).is_relative_to(fresh_env)
    result = run_installed(fresh_env, "parcero", "transcribe", sample, "--model", model, "--device", "cpu",
                           cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    if real_demo_present():
        assert result.stdout.strip(), "the demo model transcribed its own sample as nothing"
    else:
        assert text == SAMPLE_TEXT and result.stdout.strip() == SAMPLE_TEXT
