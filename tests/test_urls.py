import pytest

from backlinkspider.urls import canonicalize, host_of, registered_domain


@pytest.mark.parametrize(
    "href, base, expected",
    [
        ("https://Acme.COM/a", None, "https://acme.com/a"),
        ("HTTP://acme.com:80/a#frag", None, "http://acme.com/a"),
        ("https://acme.com:443", None, "https://acme.com/"),
        ("http://acme.com:8080/x?z=1&a=2", None, "http://acme.com:8080/x?z=1&a=2"),  # query kept as written
        ("  \n/path/page.html\t ", "http://site.com/dir/", "http://site.com/path/page.html"),
        ("page.html", "http://site.com/dir/index.html", "http://site.com/dir/page.html"),
        ("//cdn.site.com/x", "https://site.com/", "https://cdn.site.com/x"),
        ("http://bücher.de/straße", None, "http://xn--bcher-kva.de/stra%C3%9Fe"),
        ("http://a.com/a b/%7Euser", None, "http://a.com/a%20b/%7Euser"),
        ("http://a.com/%zz", None, "http://a.com/%zz"),
        ("#top", "http://site.com/p?q=1", "http://site.com/p?q=1"),
        ("", "http://site.com/p", "http://site.com/p"),  # a link to the page itself
        ("http://user:pw@a.com/", None, "http://a.com/"),  # user-info is never stored
        ("https:///path", None, "https://path/"),  # a browser reads "path" as the host
        ("http://[::1]:8080/x", None, "http://[::1]:8080/x"),
    ],
)
def test_canonical_form(href, base, expected):
    assert canonicalize(href, base) == expected


@pytest.mark.parametrize(
    "href",
    [
        "mailto:a@acme.com",
        "javascript:void(0)",
        "tel:+1555",
        "data:text/html,x",
        "ftp://acme.com/",
        "http://[broken/",
        "http://acme.com:99999/",
    ],
)
def test_non_web_or_broken_urls_are_none(href):
    assert canonicalize(href, "http://site.com/") is None


def test_host():
    assert host_of("https://www.acme.com:8443/x") == "www.acme.com"


@pytest.mark.parametrize(
    "host, domain",
    [
        ("www.acme-tools.com", "acme-tools.com"),
        ("shop.acme-tools.co.uk", "acme-tools.co.uk"),
        ("janedoe.blogspot.com", "janedoe.blogspot.com"),  # private suffix: a site of its own
        ("www.janedoe.blogspot.com", "janedoe.blogspot.com"),
        ("acme-tools.com.evil.net", "evil.net"),  # look-alike
        ("notacme-tools.com", "notacme-tools.com"),
        ("127.0.0.1", "127.0.0.1"),
        ("localhost", "localhost"),
        ("", ""),
    ],
)
def test_registered_domain(host, domain):
    assert registered_domain(host) == domain


def test_no_public_suffix_list_download(monkeypatch):
    """The bundled snapshot is used: any network access would fail this test."""
    import socket

    import tldextract

    def no_network(*args, **kwargs):
        raise AssertionError("tried to reach the network")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    from backlinkspider import urls

    assert urls._extract.suffix_list_urls == ()
    fresh = tldextract.TLDExtract(suffix_list_urls=(), include_psl_private_domains=True, cache_dir=None)
    assert fresh("a.b.blogspot.com").top_domain_under_public_suffix == "b.blogspot.com"


# Real hrefs that the old URL layer stored as backlinks or got wrong (the WHATWG answer for each).


@pytest.mark.parametrize(
    "href",
    [
        "http://Du%20bist%20halle",  # stored before with target_domain "du%20bist%20halle"
        "http:// https://www.facebook.com/groups/x",  # a host of " https"
        "http://Hier klicken für mehr Informationen über unsere Angebote",  # a sentence as href
        "http://a<b/",
        "http://256.256.256.256/",
        "http://ho%0Ast/",
    ],
)
def test_hrefs_browsers_reject_are_no_link(href):
    assert canonicalize(href, "http://www.example.de/page") is None


@pytest.mark.parametrize(
    "href, base, expected",
    [
        # A percent-encoded IDN host: decoded, then punycode.
        (
            "http://derdiplomatst%C3%A9phanehessel-derfilm.de/",
            None,
            "http://xn--derdiplomatstphanehessel-derfilm-n3c.de/",
        ),
        ("http://faß.de/", None, "http://xn--fa-hia.de/"),  # UTS #46 non-transitional, not fass.de
        ("http://0x7f.1/", None, "http://127.0.0.1/"),
        ("http://0177.0.0.1/", None, "http://127.0.0.1/"),
        ("http://2130706433/", None, "http://127.0.0.1/"),
        ("http://192.168.257/", None, "http://192.168.1.1/"),
        ("http://[0:0::1]/", None, "http://[::1]/"),
        # A scheme without // on an http page: browsers follow it to the other scheme's host.
        ("https:/pinterest.com/bohemiacuba", "http://www.example.cu/post", "https://pinterest.com/bohemiacuba"),
        ("\\x", "http://a.com/b/c", "http://a.com/x"),
        ("http:\\\\foo.com\\", None, "http://foo.com/"),
        ("///host/p", "http://a.com/x", "http://host/p"),
        ("/foo/bar/../ton", "http://a.com/", "http://a.com/foo/ton"),
        # The query as browsers send it: [ ] | { } kept, an empty ? kept.
        ("/list?order[dir]=asc&f={a|b}", "http://a.com/", "http://a.com/list?order[dir]=asc&f={a|b}"),
        ("/p?", "http://a.com/", "http://a.com/p?"),
    ],
)
def test_urls_as_browsers_read_them(href, base, expected):
    assert canonicalize(href, base) == expected


def test_hosts_are_the_parsers():
    assert host_of("http://[::1]:8080/x") == "[::1]"
    assert registered_domain(host_of("http://xn--fa-hia.de/")) == "xn--fa-hia.de"
