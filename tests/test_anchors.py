"""Anchor categories: each rule, their order, and every language's generic list."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from backlinkspider.anchors import CATEGORIES, Categorizer, default_brand, generic_anchors, is_naked_url, words

ACME = Categorizer(["Acme", "Acme Tools"], ["cordless drill", "garden shears"])


@pytest.mark.parametrize(
    ("anchor", "kind", "category"),
    [
        ("Acme Tools", "image", "image"),  # an image, whatever its alt says
        ("", "image", "image"),
        ("", "text", "empty"),
        (" …! ", "text", "empty"),  # punctuation only
        ("https://acme-tools.com/drills?x=1", "text", "naked_url"),
        ("http://127.0.0.1:8080/", "text", "naked_url"),
        ("www.acme-tools.com", "text", "naked_url"),
        ("Acme-Tools.COM", "text", "naked_url"),  # before branded
        ("acme-tools.com/drills", "text", "naked_url"),
        ("node.js", "text", "other"),  # no public suffix
        ("e.g.", "text", "other"),
        ("Acme", "text", "branded"),
        ("ACME TOOLS review", "text", "branded"),
        ("Acme's cordless drill", "text", "branded"),  # before exact/partial match
        ("acmes", "text", "other"),  # whole words
        ("Cordless Drill", "text", "exact_match"),
        ("cordless-drill!", "text", "exact_match"),  # punctuation-insensitive
        ("the best cordless drill of 2026", "text", "partial_match"),
        ("cordless drills", "text", "other"),
        ("Click here", "text", "generic"),
        ("READ MORE »", "text", "generic"),
        ("our partner", "text", "other"),
    ],
)
def test_categories_first_rule_wins(anchor, kind, category):
    assert ACME.category(anchor, kind) == category


def test_the_categories_are_the_documented_ones():
    assert CATEGORIES == ("image", "empty", "naked_url", "branded", "exact_match", "partial_match", "generic", "other")


@pytest.mark.parametrize(
    ("lang", "anchor"),
    [
        ("en", "click here"),
        ("en", "Visit site"),
        ("de", "Hier klicken"),
        ("de", "Weiterlesen"),
        ("fr", "Lire la suite"),
        ("fr", "Cliquez ici"),
        ("es", "Leer más"),
        ("it", "Clicca qui"),
        ("pt", "Saiba mais"),
        ("nl", "Lees meer"),
        ("pl", "Czytaj więcej"),
        ("pl", "Kliknij tutaj"),
    ],
)
def test_generic_anchors_of_every_language(lang, anchor):
    lists = json.loads(resources.files("backlinkspider").joinpath("data/generic_anchors.json").read_text("utf-8"))
    assert words(anchor) in {words(a) for a in lists[lang]}
    assert Categorizer([], []).category(anchor) == "generic"


def test_every_required_language_has_a_list():
    lists = json.loads(resources.files("backlinkspider").joinpath("data/generic_anchors.json").read_text("utf-8"))
    assert {"en", "de", "fr", "es", "it", "pt", "nl", "pl"} <= set(lists)
    assert all(len(lists[lang]) >= 30 for lang in ("en", "de", "fr", "es", "it", "pt", "nl", "pl"))
    assert "click here" in generic_anchors() and "lire la suite" in generic_anchors()


def test_default_brand_is_read_from_the_domain():
    assert default_brand("acme-tools.com") == ["acme tools", "acmetools", "acme-tools"]
    assert default_brand("www.example.co.uk") == ["example"]
    assert default_brand("janedoe.blogspot.com") == ["janedoe"]
    default = Categorizer(default_brand("acme-tools.com"), [])
    assert default.category("AcmeTools") == "branded" and default.category("Acme Tools Ltd") == "branded"
    assert default.category("Acme") == "other"


def test_naked_urls():
    assert is_naked_url("https://x.example/") and is_naked_url("shop.acme-tools.co.uk")
    assert not is_naked_url("acme tools") and not is_naked_url("file.txt") and not is_naked_url("3.14")
