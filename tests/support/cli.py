"""The ``backlinks`` console script as users run it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

# The console script pip installed beside this interpreter (PATH may not have it yet).
_SCRIPT = Path(sys.executable).with_name("backlinks")
BACKLINKS = str(_SCRIPT) if _SCRIPT.exists() else shutil.which("backlinks") or "backlinks"


def cli(db, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """``backlinks ARGS`` against ``db`` (a pymongo Database of the tests' server)."""
    uri = f"mongodb://{db.client.address[0]}:{db.client.address[1]}/?directConnection=true"
    done = subprocess.run(
        [BACKLINKS, *args, "--mongo-uri", uri, "--database", db.name], capture_output=True, text=True, timeout=120
    )
    if check:
        assert done.returncode == 0, done.stderr
    return done
