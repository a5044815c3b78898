"""Linux desktop integration: the launcher, the AppStream metadata, the icons and their install script."""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import engine
from engine.resources import APP_ID

REPO = Path(__file__).resolve().parents[2]
LINUX = REPO / "packaging" / "linux"
DESKTOP = LINUX / f"{APP_ID}.desktop"
METAINFO = LINUX / f"{APP_ID}.metainfo.xml"
HICOLOR = REPO / "resources" / "icons" / "hicolor"
INSTALL = LINUX / "install-desktop.sh"


def read_desktop(path: Path) -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # keys are case-sensitive (Name, GenericName[es])
    parser.read(path, encoding="utf-8")
    assert parser.sections() == ["Desktop Entry"]
    return dict(parser["Desktop Entry"])


def test_desktop_file_has_the_keys_menus_need():
    entry = read_desktop(DESKTOP)
    for key in ("Type", "Name", "Comment", "Exec", "Icon", "Categories", "Terminal"):
        assert entry.get(key), f"{DESKTOP.name}: {key} is missing"
    assert entry["Type"] == "Application" and entry["Terminal"] == "false"
    assert entry["Exec"].split()[:2] == ["parcero", "gui"]
    assert entry["Icon"] == APP_ID
    assert entry["Categories"].endswith(";") and "AudioVideo" in entry["Categories"].split(";")
    assert "ñ" in entry["Comment[es]"] or "español" in entry["Comment[es]"]


@pytest.mark.skipif(shutil.which("desktop-file-validate") is None, reason="desktop-file-utils not installed")
def test_desktop_file_passes_desktop_file_validate():
    result = subprocess.run(["desktop-file-validate", str(DESKTOP)], capture_output=True, text=True)
    assert result.returncode == 0 and "error" not in result.stdout, result.stdout


def test_metainfo_names_the_app_its_launcher_and_this_release():
    root = ET.parse(METAINFO).getroot()
    assert root.tag == "component" and root.get("type") == "desktop-application"
    assert root.findtext("id") == APP_ID
    assert root.find("launchable").text == DESKTOP.name
    assert root.findtext("metadata_license") == "CC0-1.0"
    with open(REPO / "pyproject.toml", "rb") as f:
        assert root.findtext("project_license") == tomllib.load(f)["project"]["license"]["text"]
    assert root.findtext("name") == read_desktop(DESKTOP)["Name"]
    assert root.findtext("summary") and root.find("description/p") is not None
    assert root.find("releases/release").get("version") == engine.__version__
    assert root.findtext("provides/binary") == "parcero"


@pytest.mark.skipif(shutil.which("appstreamcli") is None, reason="appstream not installed")
def test_metainfo_passes_appstreamcli_validate():
    result = subprocess.run(["appstreamcli", "validate", "--no-net", str(METAINFO)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_icons_are_valid_and_each_png_has_its_folders_size(qapp):
    from PySide6.QtGui import QImage
    from PySide6.QtSvg import QSvgRenderer

    assert QSvgRenderer(str(HICOLOR / "scalable" / "apps" / f"{APP_ID}.svg")).isValid()
    pngs = sorted(HICOLOR.glob(f"*/apps/{APP_ID}.png"))
    assert len(pngs) >= 7
    for png in pngs:
        n = int(png.parts[-3].split("x")[0])
        image = QImage(str(png))
        assert (image.width(), image.height()) == (n, n), png
        assert image.hasAlphaChannel()


def test_render_icons_writes_every_size(qapp, tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("render_icons", LINUX / "render-icons.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    written = module.render(HICOLOR / "scalable" / "apps" / f"{APP_ID}.svg", tmp_path, sizes=(16, 48))
    assert [p.relative_to(tmp_path).as_posix() for p in written] == [
        f"16x16/apps/{APP_ID}.png", f"48x48/apps/{APP_ID}.png"]
    broken = tmp_path / "roto.svg"
    broken.write_text("<svg esto no")
    with pytest.raises(ValueError, match="roto.svg"):
        module.render(broken, tmp_path)


def run_install(data: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "XDG_DATA_HOME": str(data)}
    return subprocess.run(["bash", str(INSTALL), *args], capture_output=True, text=True, env=env, timeout=60)


def test_install_script_puts_launcher_metadata_and_icons_in_xdg_data_home(tmp_path):
    data = tmp_path / "mi share"
    result = run_install(data, "--exec", "/opt/mis programas/parcero")
    assert result.returncode == 0, result.stderr
    entry = read_desktop(data / "applications" / DESKTOP.name)
    assert entry["Exec"] == '"/opt/mis programas/parcero" gui'
    assert entry["TryExec"] == "/opt/mis programas/parcero"
    assert entry["Icon"] == APP_ID and entry["Name"] == "Parcero"
    assert (data / "metainfo" / METAINFO.name).read_bytes() == METAINFO.read_bytes()
    installed = sorted(p.relative_to(data / "icons" / "hicolor") for p in (data / "icons" / "hicolor").rglob("*.*"))
    shipped = sorted(p.relative_to(HICOLOR) for p in HICOLOR.rglob(f"{APP_ID}.*"))
    assert installed == shipped and len(shipped) >= 8
    assert not list((data / "applications").glob(".*"))  # no temporary file left behind

    result = run_install(data, "--uninstall")
    assert result.returncode == 0, result.stderr
    caches = {"mimeinfo.cache", "icon-theme.cache"}  # update-desktop-database / gtk-update-icon-cache, if installed
    assert not [p for p in data.rglob("*") if p.is_file() and p.name not in caches]


def test_install_script_refuses_what_a_launcher_cannot_hold(tmp_path):
    result = run_install(tmp_path, "--exec", "/opt/$HOME/parcero")
    assert result.returncode == 1 and "cannot go in a launcher" in result.stderr
    assert not (tmp_path / "applications").exists()
    result = run_install(tmp_path, "--no-such-option")
    assert result.returncode == 2 and "usage" in result.stderr
