"""Datasette integration: metadata with canned queries over the public tables and views.

`metadata.json` is written for a database file named `crawl.db` (Datasette keys metadata by database
name); `metadata_for(path)` gives the same metadata for any other file name. `serve()` runs Datasette
for `crawler datasette`.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import tempfile
from importlib import resources
from pathlib import Path

TEMPLATE_DB = "crawl"


def metadata() -> dict:
    return json.loads(resources.files(__package__).joinpath("metadata.json").read_text(encoding="utf-8"))


def metadata_for(db_path: str | Path) -> dict:
    """The shipped metadata, re-keyed to the database name Datasette derives from `db_path`."""
    data = metadata()
    data["databases"] = {Path(db_path).stem: data["databases"][TEMPLATE_DB]}
    return data


def install_hint() -> str:
    """How to install the extra: from a checkout (`pip install -e '.[datasette]'`) or from the index."""
    root = Path(__file__).resolve().parents[2]
    if (root / "pyproject.toml").is_file() and (root / "crawler").is_dir():
        return f"pip install -e '{root}[datasette]'  (or, in the checkout: pip install -e '.[datasette]')"
    return "pip install 'panda-watch[datasette]'"


def executable() -> str | None:
    """The datasette of this Python environment first (a venv not on PATH), else the one on PATH."""
    here = Path(sys.executable).parent / "datasette"
    return str(here) if here.is_file() else shutil.which("datasette")


def serve(db_path: str | Path, host: str = "127.0.0.1", port: int = 8001) -> int:
    """Run `datasette serve` on `db_path` with our metadata until it ends or we are told to stop.

    SIGTERM / SIGINT / SIGHUP to this process stop the Datasette child too (it would otherwise keep
    its port), and the temporary metadata file is removed in every case.
    """
    program = executable()
    if program is None:
        raise FileNotFoundError(f"Datasette is not installed: {install_hint()}")
    with tempfile.NamedTemporaryFile("w", suffix=".json", prefix="pandawatch-", delete=False) as meta:
        json.dump(metadata_for(db_path), meta)
    child = None
    previous = {}

    def stop(signum, frame):
        raise _Stopped(signum)

    try:
        for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
            previous[sig] = signal.signal(sig, stop)
        child = subprocess.Popen(
            [program, "serve", str(db_path), "--metadata", meta.name, "--host", host, "--port", str(port)]
        )
        return child.wait()
    except _Stopped as stopped:
        return 128 + stopped.signum
    finally:
        if child is not None and child.poll() is None:
            child.terminate()
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        Path(meta.name).unlink(missing_ok=True)


class _Stopped(Exception):
    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum
