"""Each toxicity rule, alone, and the capped sum (backlinkspider.toxicity)."""

from __future__ import annotations

import pytest

from backlinkspider.toxicity import CAP, RULES, Facts, reasons, spam_terms_in, toxicity

CLEAN = dict(authority=40.0, followed=2, live=2, pages=20, median_external_links=12, median_words=800, relevance=60.0)

# rule code -> (facts that fire it, facts just short of it)
CASES = {
    "low_authority": (dict(authority=9.9), dict(authority=10.0)),
    "link_farm": (dict(median_external_links=101), dict(median_external_links=100)),
    "sitewide_boilerplate": (dict(sitewide_boilerplate=1), dict(sitewide_boilerplate=0)),
    "hidden_link": (dict(hidden=1), dict(hidden=0)),
    "exact_match_heavy": (dict(exact_match=2, live=3), dict(exact_match=1, live=2)),  # more than half
    "spam_terms": (dict(spam_terms=["casino"]), dict(spam_terms=[])),
    "irrelevant": (dict(relevance=4.9), dict(relevance=5.0)),
    "thin_pages": (dict(median_words=149), dict(median_words=150)),
    "link_network": (dict(network=5), dict(network=4)),
    "reciprocal": (dict(reciprocal=1), dict(reciprocal=0)),
}


def test_every_rule_has_a_case():
    assert {r.code for r in RULES} == set(CASES)


@pytest.mark.parametrize("code", sorted(CASES))
def test_each_rule_fires_on_its_signal_alone(code):
    fires, short = CASES[code]
    assert reasons(Facts(**CLEAN)) == []
    found = reasons(Facts(**{**CLEAN, **fires}))
    assert [r["code"] for r in found] == [code]
    assert found[0]["detail"] and found[0]["weight"] == next(r.weight for r in RULES if r.code == code)
    assert reasons(Facts(**{**CLEAN, **short})) == []


def test_low_authority_needs_followed_links_and_counts_unrated_as_low():
    assert reasons(Facts(**{**CLEAN, "authority": 1.0, "followed": 0})) == []
    assert [r["code"] for r in reasons(Facts(**{**CLEAN, "authority": None}))] == ["low_authority"]


def test_unknown_relevance_is_not_irrelevant():
    assert reasons(Facts(**{**CLEAN, "relevance": None})) == []


def test_the_sum_is_capped_and_one_soft_signal_stays_low():
    everything = Facts(**{**CLEAN, **{k: v for fires, _ in CASES.values() for k, v in fires.items()}})
    assert toxicity(reasons(everything)) == CAP
    for code in ("low_authority", "thin_pages", "reciprocal"):
        assert toxicity(reasons(Facts(**{**CLEAN, **CASES[code][0]}))) <= 20


def test_spam_terms_match_whole_words_in_many_languages():
    assert spam_terms_in("Best ONLINE Casino & payday loans") == ("casino", "online casino", "payday loans")
    assert spam_terms_in("Kasyno online i chwilówki") == ("chwilówki", "kasyno", "kasyno online")
    assert spam_terms_in("Онлайн казино") == ("казино", "онлайн казино")
    assert spam_terms_in("PostgreSQL replica slots and casinos-royale") == ("casinos",)
    assert spam_terms_in("Replication slots") == ()  # 'replica' and 'slots' alone are innocent
    assert spam_terms_in("") == ()
