"""The text around a link: same block only, white space collapsed, cut at word boundaries."""

from __future__ import annotations

from backlinkspider.link_context import CONTEXT_CHARS
from backlinkspider.links import extract

T = "http://target.example/"


def context(body: str) -> tuple[str, str]:
    page = extract(f"<html><body>{body}</body></html>", "http://site.example/")
    (link,) = [link for link in page.links if link.url == T]
    return link.context_before, link.context_after


def test_words_on_both_sides_within_the_paragraph():
    body = f'<p>First paragraph.</p><p>Buy the <a href="{T}">best spade</a> today.</p><p>Next one.</p>'
    assert context(body) == ("Buy the", "today.")


def test_nested_inline_tags_and_white_space():
    body = f'<p>We  <em>really\n  <b>liked</b></em> the <span><a href="{T}">spade</a></span>, <i>a lot</i>!</p>'
    assert context(body) == ("We really liked the", ", a lot!")


def test_a_br_is_a_space_not_a_block():
    assert context(f'<p>Line one<br>line two <a href="{T}">x</a><br>line three</p>') == (
        "Line one line two",
        "line three",
    )


def test_links_at_the_start_and_end_of_a_block():
    assert context(f'<li><a href="{T}">x</a> starts the item</li>') == ("", "starts the item")
    assert context(f'<td>ends the cell <a href="{T}">x</a></td>') == ("ends the cell", "")
    assert context(f'<li><a href="{T}">alone</a></li>') == ("", "")


def test_headings_and_cells_are_blocks():
    assert context(f'<h2>About <a href="{T}">x</a></h2><p>not this</p>') == ("About", "")
    assert context(f'<table><tr><td>left</td><td><a href="{T}">x</a> mine</td><td>right</td></tr></table>') == (
        "",
        "mine",
    )


def test_long_paragraphs_are_cut_at_word_boundaries():
    words = " ".join(f"word{i}" for i in range(60))
    before, after = context(f'<p>{words} <a href="{T}">x</a> {words}</p>')
    assert len(before) <= CONTEXT_CHARS and len(after) <= CONTEXT_CHARS
    assert before.endswith("word58 word59") and before.split()[0].startswith("word")
    assert words.endswith(before) and f" {before}" in f" {words}"  # whole words only
    assert after.startswith("word0 word1") and f"{after} " in f"{words} "


def test_one_long_word_is_cut_anyway():
    long = "x" * 200
    before, after = context(f'<p>{long}<a href="{T}">x</a>{long}</p>')
    assert before == "x" * CONTEXT_CHARS and after == "x" * CONTEXT_CHARS


def test_script_and_style_text_is_not_context():
    body = f'<p>Read <script>var a = 1;</script><style>p {{}}</style><a href="{T}">x</a> now</p>'
    assert context(body) == ("Read", "now")
