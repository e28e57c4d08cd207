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
