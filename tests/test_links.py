from backlinkspider.links import extract

PAGE = "http://site.com/dir/page.html"


def links(html, url=PAGE):
    return [(link.url, link.anchor, list(link.rel), link.kind) for link in extract(html, url).links]


def test_a_and_area_are_links():
    assert links('<a href="/x">X</a><map><area href="/y" alt="Y region"></map>') == [
        ("http://site.com/x", "X", [], "text"),
        ("http://site.com/y", "Y region", [], "image"),
    ]


def test_elements_without_href_are_not_links():
    assert links('<a name="top">anchor</a><a>no href</a>') == []


def test_base_href_is_honoured():
    html = '<head><base href="https://cdn.other.com/a/"><base href="/ignored/"></head><a href="b.html">B</a>'
    assert links(html) == [("https://cdn.other.com/a/b.html", "B", [], "text")]


def test_relative_base_href_resolves_against_the_page():
    assert links('<base href="/root/"><a href="x">x</a>')[0][0] == "http://site.com/root/x"


def test_comments_and_script_text_are_not_links():
    html = (
        '<!-- <a href="/c">c</a> --><script>x = "<a href=/s>s</a>"</script><noscript></noscript><a href="/real">r</a>'
    )
    assert [u for u, *_ in links(html)] == ["http://site.com/real"]


def test_only_http_targets():
    html = "".join(
        f'<a href="{h}">x</a>'
        for h in ["mailto:a@b.com", "javascript:go()", "tel:1", "data:,x", "ftp://f.com/", "https://ok.com/"]
    )
    page = extract(html, PAGE)
    assert [link.url for link in page.links] == ["https://ok.com/"]
    assert page.links_found == 6


def test_anchor_text_decoded_and_collapsed():
    html = '<a href="/x">  Fish&nbsp;&amp;\n\t<b>Chips</b>  &eacute;  </a>'
    assert links(html)[0][1] == "Fish & Chips é"


def test_image_anchor_uses_alt():
    assert links('<a href="/x"><img src="i.png" alt=" Logo "></a>')[0][1:] == ("Logo", [], "image")
    assert links('<a href="/x"><img src="a.png" alt="A"><img src="b.png" alt="B"></a>')[0][1] == "A B"
    assert links('<a href="/x"><img src="i.png"></a>')[0][1:] == ("", [], "image")
    assert links('<a href="/x">Text <img src="i.png" alt="ignored"></a>')[0][1:] == ("Text", [], "text")
    assert links('<a href="/x"> </a>')[0][1:] == ("", [], "text")


def test_rel_tokens():
    assert links('<a href="/x" rel="UGC,nofollow  noopener ugc">x</a>')[0][2] == ["ugc", "nofollow", "noopener"]


def test_meta_robots_and_title():
    page = extract(
        '<head><title> A\n title </title><meta name="GoogleBot" content="NoFollow">'
        '<meta name="bingbot" content="noindex"></head>',
        PAGE,
    )
    assert page.title == "A title"
    assert page.directives == {"nofollow"}


def test_malformed_html_still_yields_links():
    html = '<p><a href="/one">one <b>bold</p><div><a href=/two>two</div></table></i><a href="/three'
    assert [u for u, *_ in links(html)][:2] == ["http://site.com/one", "http://site.com/two"]


def test_garbage_does_not_raise():
    assert links("\x00\x01\x02<<<>>>&&&;;;" * 100) == []
    assert links("") == []


def test_wants_limits_details_to_the_links_that_can_be_stored():
    html = '<a href="/in" rel="nofollow">In</a><a href="https://ext.com/x" rel="ugc">Out</a><area href="/map" alt="M">'
    page = extract(html, PAGE, wants=lambda host: host != "site.com")
    assert [(link.url, link.anchor, link.rel) for link in page.links] == [("https://ext.com/x", "Out", ("ugc",))]
    assert page.others == [("http://site.com/in", "site.com"), ("http://site.com/map", "site.com")]
    assert page.links_found == 3


def test_links_come_in_document_order_across_a_and_area():
    html = '<map><area href="/first" alt="First"></map><a href="/second">Second</a><area href="/third" alt="T">'
    assert [u for u, *_ in links(html)] == ["http://site.com/first", "http://site.com/second", "http://site.com/third"]


# Anchor text is what a reader sees (seen on real pages, each test named after its site).


def test_focus_de_json_ld_inside_a_link_is_not_its_anchor():
    html = (
        '<a href="https://www.focus.de/politik/">Politik<script type="application/ld+json">'
        '{"@context":"http://schema.org","@type":"BreadcrumbList"}</script></a>'
    )
    assert links(html) == [("https://www.focus.de/politik/", "Politik", [], "text")]


def test_leichtathletik_berlin_de_image_link_with_a_script_beside_it_is_an_image_link():
    html = (
        '<a href="https://www.leichtathletik-berlin.de/bild"><img alt="Siegerehrung" src="a.jpg">'
        "<script>window.respimage && window.respimage();</script></a>"
    )
    assert links(html) == [("https://www.leichtathletik-berlin.de/bild", "Siegerehrung", [], "image")]


def test_style_noscript_and_template_text_is_not_anchor_text():
    html = (
        '<a href="/x">Read <style>.x{color:red}</style><noscript>enable JS</noscript>'
        "<template>later</template><b>more</b></a>"
    )
    assert links(html) == [("http://site.com/x", "Read more", [], "text")]


def test_an_unclosed_link_reopened_around_a_script_keeps_only_visible_text():
    # The parser (as browsers do) closes <a> at the <div>, re-opens it inside, around
    # the script, and again after: three links, none with the script's text.
    html = '<p><a href="/a">one <div>two<script>track()</script></div> three'
    assert [(u, a) for u, a, *_ in links(html)] == [
        ("http://site.com/a", "one"),
        ("http://site.com/a", "two"),
        ("http://site.com/a", "three"),
    ]


def test_the_first_base_anywhere_in_the_document_counts():
    html = '<body><a href="x">before</a><base href="https://cdn.other.com/a/"><base href="/b/"><a href="y">after</a>'
    assert [u for u, *_ in links(html)] == ["https://cdn.other.com/a/x", "https://cdn.other.com/a/y"]


def test_a_base_that_is_not_a_web_url_leaves_relative_links_unresolvable():
    page = extract('<base href="javascript:alert(1)"><a href="rel">r</a><a href="https://ok.com/">ok</a>', PAGE)
    assert [link.url for link in page.links] == ["https://ok.com/"]
    assert page.invalid_urls == 1


def test_a_base_that_does_not_parse_is_ignored():
    assert links('<base href="http://[bad"><a href="x">x</a>')[0][0] == "http://site.com/dir/x"
