"""The language of a referring page, as an ISO 639-1 code.

A backlink from a page in the target's language reaches its readers; one from a
page in a language the target does not serve is a common sign of a link scheme.
What the page declares wins: ``<html lang>``, then the ``Content-Language``
header; only a page that declares neither is detected from its visible text,
with py3langid (langid.py's model, shipped in its wheel: no download, about
0.15 ms a page). The model takes most of a second to load: ``preload`` starts
that in a thread when a crawl opens, beside the first downloads. A detection less sure than
``MIN_PROBABILITY``, or from fewer than ``MIN_WORDS`` words, is no answer (None).
"""

from __future__ import annotations

import re
import threading
from typing import Any

#: text a detection reads: the first characters of the page's visible text
SAMPLE_CHARS = 600
MIN_WORDS = 8
MIN_PROBABILITY = 0.6

_PRIMARY = re.compile(r"^\s*([A-Za-z]{2})(?:[-_][A-Za-z0-9]+)*\s*$")
_identifier = None
_loading = threading.Lock()


def declared(value: str | None) -> str | None:
    """The ISO 639-1 code of a language tag (``en-GB`` -> ``en``); None for anything else.

    A ``Content-Language`` header may list several: the first counts.
    """
    if not value:
        return None
    found = _PRIMARY.match(value.split(",", 1)[0])
    return found.group(1).lower() if found else None


def detected(text: str) -> str | None:
    """The language of ``text`` by py3langid, or None when the text says too little."""
    sample = text[:SAMPLE_CHARS]
    if len(sample.split()) < MIN_WORDS:
        return None
    code, probability = _model().classify(sample)
    return code if probability >= MIN_PROBABILITY else None


def page_language(html_lang: str | None, content_language: str | None, text: str) -> str | None:
    """``<html lang>``, else ``Content-Language``, else detected from ``text``."""
    return declared(html_lang) or declared(content_language) or detected(text)


def preload() -> None:
    """Load the model in a background thread (decompressing it lets the reactor run)."""
    threading.Thread(target=_model, name="langid-load", daemon=True).start()


def _model() -> Any:
    global _identifier
    with _loading:  # pipelines may ask from threads
        if _identifier is None:
            from py3langid.langid import MODEL_FILE, LanguageIdentifier

            _identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    return _identifier
