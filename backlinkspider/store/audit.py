"""What ``backlinks score`` found for one target, read back: ``backlinks audit``,
the scored columns of ``report`` and ``export``, and ``disavow --toxic``.

Reads ``referring_domains`` by its (target_domain, toxicity) index and the
target's backlinks by (target_domain, last_seen); counts in Python, which keeps
the queries plain enough for any MongoDB-compatible server.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from pymongo import DESCENDING
from pymongo.database import Database

from backlinkspider.store.queries import EXTERNAL, LIVE
from backlinkspider.store.schema import BACKLINKS, REFERRING_DOMAINS
from backlinkspider.toxicity import RULES

#: the bands relevance and toxicity are counted in (lower bound inclusive)
BANDS = ((0, 20), (20, 40), (40, 60), (60, 80), (80, 101))


def band(value: float | None) -> str:
    """``"0-19"`` … ``"80-100"``, or ``"unknown"``."""
    if value is None:
        return "unknown"
    for low, high in BANDS:
        if value < high:
            return f"{low}-{min(high - 1, 100)}"
    return f"{BANDS[-1][0]}-100"


def _bands(values: Iterable[float | None]) -> dict[str, int]:
    counts = Counter(band(v) for v in values)
    names = [band(low) for low, _ in BANDS] + ["unknown"]
    return {name: counts.get(name, 0) for name in names}


def audit(db: Database, domain: str, top: int = 20) -> dict:
    """Relevance and toxicity of ``domain``'s backlink profile, as ``backlinks audit`` shows it."""
    live = list(
        db[BACKLINKS].find(
            {"target_domain": domain, **LIVE, **EXTERNAL},
            {"_id": 0, "source_url": 1, "source_domain": 1, "target_url": 1, "anchor": 1, "link_types": 1,
             "placement": 1, "relevance": 1, "relevance_basis": 1, "hidden": 1},
        )
    )  # fmt: skip
    relevant = sorted(
        (
            d
            for d in live
            if d.get("relevance") is not None
            and "follow" in (d.get("link_types") or ())
            and d.get("placement") == "content"
            and d.get("hidden") is not True
        ),
        key=lambda d: (-d["relevance"], d["source_url"], d["target_url"]),
    )[:top]
    domains = list(db[REFERRING_DOMAINS].find({"target_domain": domain}, {"_id": 0}).sort([("toxicity", DESCENDING)]))
    domains.sort(key=lambda d: (-d.get("toxicity", 0), d["source_domain"]))
    backlinks_total = sum(d.get("backlinks", 0) for d in domains)
    reasons = {}
    for rule in RULES:
        touched = [d for d in domains if any(r["code"] == rule.code for r in d.get("toxic_reasons") or ())]
        hit = sum(d.get("backlinks", 0) for d in touched)
        reasons[rule.code] = {
            "weight": rule.weight,
            "when": rule.when,
            "referring_domains": len(touched),
            "referring_domains_share": round(len(touched) / len(domains), 3) if domains else 0.0,
            "backlinks": hit,
            "backlinks_share": round(hit / backlinks_total, 3) if backlinks_total else 0.0,
        }
    scored = [d["scored_at"] for d in domains if d.get("scored_at")]
    return {
        "domain": domain,
        "scored_at": max(scored) if scored else None,
        "live_backlinks": len(live),
        "referring_domains": len(domains),
        "relevance": _bands(d.get("relevance") for d in live),
        "relevance_basis": dict(Counter(d.get("relevance_basis") or "unknown" for d in live)),
        "toxicity": _bands(d.get("toxicity") for d in domains),
        "most_relevant": [
            {k: d.get(k) for k in ("source_url", "target_url", "anchor", "relevance", "relevance_basis")}
            for d in relevant
        ],
        "most_toxic": [
            {
                k: d.get(k)
                for k in (
                    "source_domain",
                    "toxicity",
                    "toxic_reasons",
                    "backlinks",
                    "live",
                    "followed",
                    "authority",
                    "relevance",
                )
            }  # fmt: skip
            for d in domains[:top]
        ],
        "reasons": reasons,
    }


def referring_domain_scores(db: Database, domain: str, sources: Iterable[str]) -> dict[str, dict]:
    """``relevance``, ``toxicity`` and ``toxic_reasons`` of some referring domains of ``domain``."""
    names = sorted(set(sources))
    return {
        d["source_domain"]: d
        for d in db[REFERRING_DOMAINS].find(
            {"target_domain": domain, "source_domain": {"$in": names}},
            {"_id": 0, "source_domain": 1, "relevance": 1, "toxicity": 1, "toxic_reasons": 1},
        )
    }


def toxic_domains(db: Database, domain: str, min_toxicity: float) -> list[dict]:
    """The referring domains of ``domain`` with toxicity >= ``min_toxicity``, most toxic first."""
    found = db[REFERRING_DOMAINS].find(
        {"target_domain": domain, "toxicity": {"$gte": min_toxicity}},
        {"_id": 0, "source_domain": 1, "toxicity": 1, "toxic_reasons": 1, "content_relevance": 1},
    )
    return sorted(found, key=lambda d: (-d["toxicity"], d["source_domain"]))
