"""Toxicity of a referring domain, with its reasons: every rule in one table.

Semrush's toxicity score and Moz's Spam Score are black boxes; ours is a capped
sum of named rules, and each rule that fires says why in numbers, so a user can
check a verdict before disavowing anything. ``backlinks score`` gathers one
``Facts`` per (target domain, referring domain) from the store and calls
``reasons``; ``toxicity`` adds their weights up, at most 100.

The weights are set so that one soft signal alone (low authority, thin pages,
a reciprocal link) stays at or under 20, what an honest small blog may show, and
the signs of a built network (spam terms, sitewide boilerplate links, exact-match
anchors, a dense group of linking domains) pass 60 together.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

from backlinkspider.terms import words

#: the most toxicity a domain can have
CAP = 100


@dataclass
class Facts:
    """What the store says about one referring domain of one target."""

    authority: float | None = None  # backlinks rank's, None when unrated
    followed: int = 0  # live followed backlinks into the target
    live: int = 0  # live backlinks into the target
    pages: int = 0  # the domain's crawled HTML pages
    median_external_links: float | None = None  # per crawled page of the domain
    median_words: float | None = None  # per crawled page of the domain
    sitewide_boilerplate: int = 0  # live sitewide backlinks in nav, header, footer or aside
    hidden: int = 0  # live hidden backlinks
    exact_match: int = 0  # live backlinks with exact-match anchors (anchors.Categorizer)
    spam_terms: list[str] = field(default_factory=list)  # found in its anchors or referring pages' titles
    relevance: float | None = None  # domain-to-domain, 0-100
    network: int = 0  # size of the dense group of the target's referring domains it belongs to
    reciprocal: int = 0  # the target's pages linking to it


@dataclass(frozen=True)
class Rule:
    code: str
    weight: int
    when: str  # what fires it, for README and --help
    detail: Callable[[Facts], str | None]  # why it fired, or None when it did not


#: below this authority a domain passing followed links is a low-quality source
LOW_AUTHORITY = 10
#: a domain whose pages link out more than this (median) sells or swaps links
LINK_FARM_LINKS = 100
#: median words of text per page below which a domain's pages are thin
THIN_WORDS = 150
#: domain relevance (0-100) below which a known-topic domain is off-topic
IRRELEVANT = 5
#: the smallest group of interlinked referring domains that counts as a network
NETWORK_SIZE = 5


def _low_authority(f: Facts) -> str | None:
    if f.followed and (f.authority or 0.0) < LOW_AUTHORITY:
        rated = "unrated" if f.authority is None else f"authority {f.authority:g}"
        return f"{rated} (under {LOW_AUTHORITY}) with {f.followed} followed link{_s(f.followed)}"
    return None


def _link_farm(f: Facts) -> str | None:
    if f.median_external_links is not None and f.median_external_links > LINK_FARM_LINKS:
        return f"median {f.median_external_links:g} external links per page over {f.pages} page{_s(f.pages)}"
    return None


def _sitewide(f: Facts) -> str | None:
    if f.sitewide_boilerplate:
        n = f.sitewide_boilerplate
        return f"{n} sitewide link{_s(n)} in navigation, header, footer or sidebar"
    return None


def _hidden(f: Facts) -> str | None:
    return f"{f.hidden} hidden link{_s(f.hidden)}" if f.hidden else None


def _exact_match(f: Facts) -> str | None:
    if f.live and f.exact_match * 2 > f.live:
        return f"{f.exact_match} of {f.live} anchors exact-match"
    return None


def _spam(f: Facts) -> str | None:
    return "spam terms: " + ", ".join(sorted(f.spam_terms)[:5]) if f.spam_terms else None


def _irrelevant(f: Facts) -> str | None:
    if f.relevance is not None and f.relevance < IRRELEVANT:
        return f"domain relevance {f.relevance:g} (under {IRRELEVANT})"
    return None


def _thin(f: Facts) -> str | None:
    if f.median_words is not None and f.median_words < THIN_WORDS:
        return f"median {f.median_words:g} words per page over {f.pages} page{_s(f.pages)}"
    return None


def _network(f: Facts) -> str | None:
    if f.network >= NETWORK_SIZE:
        return f"one of {f.network} referring domains that link densely among themselves"
    return None


def _reciprocal(f: Facts) -> str | None:
    if f.reciprocal:
        return f"the target links back from {f.reciprocal} page{_s(f.reciprocal)}"
    return None


def _s(n: int) -> str:
    return "" if n == 1 else "s"


RULES: tuple[Rule, ...] = (
    Rule("low_authority", 15, f"authority under {LOW_AUTHORITY} (or unrated) and followed links", _low_authority),
    Rule("link_farm", 30, f"the domain's pages link out more than {LINK_FARM_LINKS} times (median)", _link_farm),
    Rule("sitewide_boilerplate", 20, "sitewide links in navigation, header, footer or sidebar", _sitewide),
    Rule("hidden_link", 30, "a link a reader cannot see (backlinkspider.layout)", _hidden),
    Rule("exact_match_heavy", 20, "more than half of its anchors to the target are exact-match", _exact_match),
    Rule("spam_terms", 35, "anchors or referring page titles with spam terms (data/spam_terms.json)", _spam),
    Rule("irrelevant", 20, f"domain relevance under {IRRELEVANT}, where relevance is known", _irrelevant),
    Rule("thin_pages", 15, f"median words per page under {THIN_WORDS}", _thin),
    Rule("link_network", 35, f"in a group of {NETWORK_SIZE}+ referring domains densely linked together", _network),
    Rule("reciprocal", 10, "the target links back to it", _reciprocal),
)


def reasons(facts: Facts) -> list[dict]:
    """``{code, weight, detail}`` of each rule ``facts`` fire, in table order."""
    found = []
    for rule in RULES:
        detail = rule.detail(facts)
        if detail is not None:
            found.append({"code": rule.code, "weight": rule.weight, "detail": detail})
    return found


def toxicity(found: list[dict]) -> int:
    """0–100: the weights of the reasons, added up and capped."""
    return min(CAP, sum(r["weight"] for r in found))


@lru_cache(maxsize=1)
def spam_phrases() -> dict[str, tuple[str, ...]]:
    """Every language's spam terms, normalized as ``terms.words`` normalizes text, by first word."""
    data = json.loads(resources.files("backlinkspider").joinpath("data/spam_terms.json").read_text("utf-8"))
    by_first: dict[str, set[str]] = {}
    for lang, listed in data.items():
        if lang.startswith("_"):
            continue
        for phrase in listed:
            found = words(phrase)
            if found:
                by_first.setdefault(found[0], set()).add(" ".join(found))
    return {first: tuple(sorted(p)) for first, p in by_first.items()}


@lru_cache(maxsize=65_536)
def spam_terms_in(text: str) -> tuple[str, ...]:
    """The spam terms ``text`` contains, as whole words (anchors and titles repeat: remembered)."""
    if not text:
        return ()
    found = words(text)
    phrases = spam_phrases()
    candidates = [p for w in dict.fromkeys(found) for p in phrases.get(w, ())]
    if not candidates:
        return ()
    padded = f" {' '.join(found)} "
    return tuple(sorted({p for p in candidates if f" {p} " in padded}))
