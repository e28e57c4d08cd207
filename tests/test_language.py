"""A referring page's language: declared first, detected only when not declared."""

from __future__ import annotations

from backlinkspider.language import declared, detected, page_language

GERMAN = "Dieser Garten ist sehr schön und wir pflanzen jedes Jahr im Frühling neue Blumen und Kräuter an."
POLISH = "Ten ogród jest bardzo piękny i każdej wiosny sadzimy w nim nowe kwiaty, zioła oraz warzywa."


def test_declared_tags_become_iso_639_1():
    assert declared("en-GB") == "en"
    assert declared("DE") == "de"
    assert declared("zh-Hant-TW") == "zh"
    assert declared("pt_BR") == "pt"
    assert declared("de-DE, en") == "de"  # Content-Language may list several: the first
    assert declared("") is None and declared(None) is None
    assert declared("x-default") is None and declared("english") is None and declared("eng") is None


def test_html_lang_wins_then_content_language_then_detection():
    assert page_language("fr", "de", GERMAN) == "fr"
    assert page_language("", "de-AT", "Hello there, this is English text and more words here.") == "de"
    assert page_language(None, None, GERMAN) == "de"
    assert page_language("bogus-tag-", None, POLISH) == "pl"


def test_too_little_text_is_no_answer():
    assert detected("Hallo Welt") is None
    assert detected("") is None
