import pytest

from backlinkspider.robots_meta import header_directives, meta_directives


@pytest.mark.parametrize(
    "content, nofollow",
    [
        ("nofollow", True),
        ("NOINDEX, NoFollow", True),
        ("none", True),
        ("noindex,nofollow", True),
        ("index, follow", False),
        ("noindex", False),
        ("", False),
    ],
)
def test_meta(content, nofollow):
    assert ("nofollow" in meta_directives(content)) is nofollow


def test_none_means_noindex_and_nofollow():
    assert {"noindex", "nofollow"} <= meta_directives("NONE")


@pytest.mark.parametrize(
    "values, nofollow",
    [
        (["nofollow"], True),
        (["noindex, nofollow"], True),
        (["noarchive", "NoFollow"], True),  # several headers count
        (["googlebot: nofollow"], True),
        (["GoogleBot: noindex, nofollow"], True),
        (["none"], True),
        (["otherbot: nofollow"], False),  # another crawler's directive
        (["otherbot: noindex, nofollow", "googlebot: noarchive"], False),
        (["unavailable_after: 25 Jun 2010 15:00:00 PST"], False),
        ([b"noindex, nofollow"], True),
        ([], False),
    ],
)
def test_x_robots_tag(values, nofollow):
    assert ("nofollow" in header_directives(values)) is nofollow


# Every form of Google's "Robots meta tag, data-nosnippet, and X-Robots-Tag specifications".


@pytest.mark.parametrize(
    "content, expected",
    [
        ("noindex", {"noindex"}),
        ("noindex, nofollow", {"noindex", "nofollow"}),
        ("noindex nofollow", {"noindex", "nofollow"}),
        ("all", {"all"}),
        ("nosnippet", {"nosnippet"}),
        ("indexifembedded", {"indexifembedded"}),
        ("max-snippet:-1, max-image-preview:large", {"max-snippet", "max-image-preview"}),
        ("max-snippet: 20, max-video-preview: -1, nofollow", {"max-snippet", "max-video-preview", "nofollow"}),
        ("max-image-preview: standard", {"max-image-preview"}),
        ("notranslate, noimageindex", {"notranslate", "noimageindex"}),
        ("unavailable_after: 2020-09-21", {"unavailable_after"}),
        ("unavailable_after: Wednesday, 03-Nov-27 15:00:00 GMT, nofollow", {"unavailable_after", "nofollow"}),
    ],
)
def test_meta_content_forms(content, expected):
    assert meta_directives(content) == expected


@pytest.mark.parametrize(
    "values, expected",
    [
        (["noindex"], {"noindex"}),
        (["noarchive", "unavailable_after: 25 Jun 2010 15:00:00 PST"], {"noarchive", "unavailable_after"}),
        (["googlebot: nofollow", "otherbot: noindex, nofollow"], {"nofollow"}),
        (["googlebot: noindex, otherbot: nofollow"], {"noindex"}),
        (["noimageindex"], {"noimageindex"}),
        (["max-snippet: 20, nofollow"], {"max-snippet", "nofollow"}),
        # The date's commas are part of it, whichever of RFC 850, RFC 822 or ISO 8601 it is written in.
        (["unavailable_after: Wednesday, 03-Nov-27 15:00:00 GMT, nofollow"], {"unavailable_after", "nofollow"}),
        (["unavailable_after: Wed, 03 Nov 2027 15:00:00 GMT, nofollow"], {"unavailable_after", "nofollow"}),
        (["unavailable_after: 2027-11-03T15:00:00+00:00, nofollow"], {"unavailable_after", "nofollow"}),
        (
            ["googlebot: unavailable_after: Wednesday, 03-Nov-27 15:00:00 GMT, nofollow"],
            {"unavailable_after", "nofollow"},
        ),
        (["otherbot: unavailable_after: Wed, 03 Nov 2027 15:00:00 GMT, nofollow"], set()),
    ],
)
def test_x_robots_tag_forms(values, expected):
    assert header_directives(values) == expected
