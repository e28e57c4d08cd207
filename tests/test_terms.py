"""A page's main text and its term counts (backlinkspider.terms, links.main_text)."""

from __future__ import annotations

from backlinkspider.links import extract
from backlinkspider.terms import MAX_TERMS, count_terms, words


def test_words_are_normalized_folded_and_keep_no_numbers_or_single_letters():
    assert words("Straße STRASSE ﬁle x 2026 v2 Café") == ["strasse", "strasse", "file", "v2", "café"]


def test_english_drops_stop_words_and_stems():
    assert count_terms("The configured configuration configures the configuring of it", "en") == {"configur": 4}


def test_german_uses_its_own_stop_words_and_stemmer():
    terms = count_terms("Die Gärten und der Garten sind schön, die Gärtner pflanzen", "de")
    assert "die" not in terms and "und" not in terms and "der" not in terms
    assert terms["gart"] == 2  # Garten, Gärten (the German stemmer folds umlauts)
    assert "pflanz" in terms


def test_russian_stems_too():
    terms = count_terms("Казино и казино, игровые автоматы", "ru")
    assert terms["казин"] == 2 and "и" not in terms


def test_an_unknown_language_keeps_every_word_unstemmed():
    assert count_terms("the running runners", None) == {"running": 1, "runners": 1, "the": 1}


def test_chinese_and_japanese_count_character_pairs():
    assert count_terms("日本語の文章", "ja") == {"日本": 1, "本語": 1, "語の": 1, "の文": 1, "文章": 1}
    assert words("Python是好的") == ["python", "是好", "好的"]


def test_the_most_frequent_are_kept_ties_alphabetically():
    text = " ".join(f"word{n:03d}x " * (1 + n % 3) for n in range(300))
    terms = count_terms(text, None)
    assert len(terms) == MAX_TERMS
    assert list(terms)[:2] == ["word002x", "word005x"]  # three times each, first in alphabetical order
    assert min(terms.values()) >= 1 and "word000x" not in terms  # once only: cut
    assert count_terms("a b c", None, keep=1) == {}


def test_main_text_is_main_when_there_is_one():
    page = extract(
        "<html><body><nav>Menu Home</nav><main><h1>Python tutorial</h1><p>Learn <b>lists</b></p></main>"
        "<footer>Copyright</footer></body></html>",
        "http://a.com/",
    )
    assert page.main_text.split() == ["Python", "tutorial", "Learn", "lists"]  # blocks do not fuse


def test_main_text_is_the_articles_when_there_is_no_main():
    page = extract(
        "<html><body><div class=sidebar>Side</div><article>First <article>inner</article></article>"
        "<article>Second</article></body></html>",
        "http://a.com/",
    )
    assert page.main_text.split() == ["First", "inner", "Second"]


def test_otherwise_main_text_is_the_body_without_boilerplate():
    page = extract(
        "<html><body><div id=header>Top</div><div id=mainNav>Menu</div><div class=content><p>Body text</p>"
        "<div class=widget>Side</div><div class=comments>Nice post</div></div><div class=site-footer>foot</div>"
        "<script>var x = 1;</script></body></html>",
        "http://a.com/",
    )
    assert page.main_text.split() == ["Body", "text"]
