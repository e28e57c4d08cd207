"""Real HTML for tests and benches: Debian's python3.11-doc package, fetched once.

``apt-get download`` needs the package sources, not a network beyond them; the
package is unpacked under ``.corpus/`` at the top of the checkout (ignored by
git), so every later run is offline. The theme is Sphinx's: a ``role="main"``
body, ``role="navigation"`` bars and a ``div.footer``, which the layout tests pin.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

CORPUS = Path(__file__).resolve().parents[2] / ".corpus" / "python3.11-doc"
HTML = CORPUS / "usr/share/doc/python3.11/html"


def python_docs() -> Path:
    """The root of the python3.11-doc HTML; downloads and unpacks it the first time.

    Raises ``OSError`` or ``subprocess.CalledProcessError`` when it cannot.
    """
    if not HTML.is_dir():
        CORPUS.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run(["apt-get", "download", "python3.11-doc"], cwd=tmp, check=True, capture_output=True)
            deb = next(Path(tmp).glob("python3.11-doc_*.deb"))
            subprocess.run(["dpkg-deb", "-x", str(deb), str(CORPUS)], check=True)
    return HTML
