from datetime import datetime, timezone

import pytest

from backlinkspider.items import Link, PageItem
from pipelines.classify import classify, link_types
from pipelines.normalize import NormalizePipeline


@pytest.mark.parametrize(
    "rel, page_nofollow, expected",
    [
        ([], False, ["follow"]),
        (["noopener", "noreferrer"], False, ["follow"]),
        (["nofollow"], False, ["nofollow"]),
        (["ugc", "nofollow"], False, ["nofollow", "ugc"]),
        (["sponsored"], False, ["sponsored"]),
        (["sponsored", "ugc", "nofollow"], False, ["nofollow", "sponsored", "ugc"]),
        ([], True, ["nofollow"]),
        (["ugc"], True, ["nofollow", "ugc"]),
    ],
)
def test_link_types(rel, page_nofollow, expected):
    assert link_types(rel, page_nofollow) == expected


def _page(*urls, nofollow=False):
    links = [Link(u, f"anchor {i % 2}", (), "text", host=u.split("/")[2]) for i, u in enumerate(urls)]
    item = PageItem("http://www.seed.com/p", 200, datetime.now(timezone.utc), page_nofollow=nofollow, links=links)
    return NormalizePipeline().process_item(item)


def test_targets_keep_only_links_into_them():
    item = _page(
        "https://www.acme.com/a", "https://acme.com.evil.net/", "https://notacme.com/", "http://www.seed.com/in"
    )
    classify(item, frozenset({"acme.com"}))
    assert [link.url for link in item.links] == ["https://www.acme.com/a"]


def test_internal_links_into_a_target_are_kept_and_flagged():
    item = _page("http://blog.seed.com/x", "https://other.net/")
    classify(item, frozenset({"seed.com"}))
    assert [(link.url, link.internal) for link in item.links] == [("http://blog.seed.com/x", True)]


def test_without_targets_every_external_link_is_kept():
    item = _page("http://www.seed.com/a", "http://cdn.seed.com/b", "https://acme.com/", "https://other.net/")
    classify(item, frozenset())
    assert [link.domain for link in item.links] == ["acme.com", "other.net"]
    assert not any(link.internal for link in item.links)


def test_one_link_per_target_and_anchor():
    item = _page("https://acme.com/", "https://acme.com/", "https://acme.com/")  # anchors 0, 1, 0
    classify(item, frozenset())
    assert [(link.url, link.anchor) for link in item.links] == [
        ("https://acme.com/", "anchor 0"),
        ("https://acme.com/", "anchor 1"),
    ]


def test_page_nofollow_applies_to_every_link():
    item = _page("https://acme.com/", "https://other.net/", nofollow=True)
    classify(item, frozenset())
    assert all(link.link_types == ["nofollow"] for link in item.links)
