"""Real HTML for tests and benches: Debian's documentation packages, fetched once.

``apt-get download`` needs the package sources, not a network beyond them; each
package is unpacked under ``.corpus/`` at the top of the checkout (ignored by
git), so every later run is offline. Three themes on three topics: Sphinx
(python3.11-doc: a ``role="main"`` body, ``role="navigation"`` bars, a
``div.footer``), DocBook (postgresql-doc-15: ``navheader``/``navfooter`` bars)
and Apache httpd's own (apache2-doc: ``#page-header``, ``#footer``).
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

CORPUS = Path(__file__).resolve().parents[2] / ".corpus"
#: package -> where its HTML is inside the package
HTML = {
    "python3.11-doc": "usr/share/doc/python3.11/html",
    "postgresql-doc-15": "usr/share/doc/postgresql-doc-15/html",
    "apache2-doc": "usr/share/doc/apache2-doc/manual",
}


def debian_docs(package: str) -> Path:
    """The root of ``package``'s HTML; downloads and unpacks it the first time.

    Raises ``OSError`` or ``subprocess.CalledProcessError`` when it cannot.
    """
    root = CORPUS / package / HTML[package]
    if not root.is_dir():
        (CORPUS / package).mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run(["apt-get", "download", package], cwd=tmp, check=True, capture_output=True)
            deb = next(Path(tmp).glob(f"{package}_*.deb"))
            subprocess.run(["dpkg-deb", "-x", str(deb), str(CORPUS / package)], check=True)
    return root


def python_docs() -> Path:
    """The root of the python3.11-doc HTML (see ``debian_docs``)."""
    return debian_docs("python3.11-doc")
