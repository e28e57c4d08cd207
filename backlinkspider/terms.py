"""A page's main text as term counts: what ``backlinks score`` compares pages by.

Counted at crawl time, from the text the parser already has (``links.extract``'s
``main_text``), so relevance never re-reads HTML. The steps, in order:

* Unicode NFKC normalization and case folding (``Straße`` and ``STRASSE`` are one word);
* words: runs of letters and digits; numbers alone and one-letter words are dropped.
  Chinese and Japanese write no spaces: their runs of ideographs and kana count as
  overlapping character pairs (bigrams), the usual unit of CJK retrieval;
* stop words of the page's ``language`` removed (the ``stop-words`` package's lists);
* stemmed where Snowball has a stemmer for the language (``snowballstemmer``, pure
  Python), so ``configure``, ``configured`` and ``configuration`` meet;
* the ``MAX_TERMS`` most frequent kept, ties broken alphabetically.

A page of an unknown language keeps every word, unstemmed. Stemming is the
costly step, so each language's stems are remembered (``_Language``): a crawl
meets the same few thousand words again and again.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from functools import lru_cache

#: terms kept a page: the most frequent; about 1.3 KB of BSON on average (bench/crawl.py)
MAX_TERMS = 200
#: characters of main text read: a 5 MB "article" is a dump, and its first pages say what it is about
MAX_TEXT_CHARS = 200_000
#: stems remembered per language before the memory starts over
STEM_CACHE = 200_000

_WORD = re.compile(r"[^\W_]+")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")

#: ISO 639-1 -> Snowball algorithm name (snowballstemmer.algorithms())
SNOWBALL = {
    "ar": "arabic", "hy": "armenian", "eu": "basque", "ca": "catalan", "cs": "czech", "da": "danish",
    "nl": "dutch", "en": "english", "eo": "esperanto", "et": "estonian", "fi": "finnish", "fr": "french",
    "de": "german", "el": "greek", "hi": "hindi", "hu": "hungarian", "id": "indonesian", "ga": "irish",
    "it": "italian", "lt": "lithuanian", "ne": "nepali", "no": "norwegian", "nb": "norwegian", "nn": "norwegian",
    "fa": "persian", "pl": "polish", "pt": "portuguese", "ro": "romanian", "ru": "russian", "sr": "serbian",
    "st": "sesotho", "es": "spanish", "sv": "swedish", "ta": "tamil", "tr": "turkish", "yi": "yiddish",
}  # fmt: skip


def words(text: str) -> list[str]:
    """The normalized words of ``text``, in order, before stop words and stemming."""
    text = _normalized(text)
    if not _CJK.search(text):
        return [w for w in _WORD.findall(text) if len(w) > 1 and not w.isdigit()]
    found = []
    for word in _WORD.findall(text):
        if _CJK.search(word):
            found.extend(_cjk_words(word))
        elif len(word) > 1 and not word.isdigit():
            found.append(word)
    return found


def _normalized(text: str) -> str:
    text = text[:MAX_TEXT_CHARS]
    if not unicodedata.is_normalized("NFKC", text):  # most text is: a quick check in C
        text = unicodedata.normalize("NFKC", text)
    return text.casefold()


#: ASCII bytes that are not letters or digits become spaces, the rest stays: UTF-8 text
#: then splits into words in C, three times faster than the regular expression
_SEPARATORS = bytes(b if b >= 128 or chr(b).isalnum() else 32 for b in range(256))


def _counted_words(text: str) -> Counter[str]:
    """``Counter(words(text))``, split in C; only the tokens with non-ASCII characters
    (accents, curly quotes, CJK) go through the regular expression, once each."""
    text = _normalized(text)
    raw = Counter(text.encode("utf-8", "replace").translate(_SEPARATORS).decode("utf-8", "replace").split())
    for token in [t for t in raw if not t.isascii() or len(t) < 2 or t.isdigit()]:
        n = raw.pop(token)
        if token.isascii():
            continue
        for word in _WORD.findall(token):
            for part in _cjk_words(word) if _CJK.search(word) else (word,):
                if (len(part) > 1 and not part.isdigit()) or _CJK.match(part):
                    raw[part] += n
    return raw


def _cjk_words(word: str) -> list[str]:
    """A mixed run: CJK parts as character bigrams (a lone character as itself), the rest as words."""
    out: list[str] = []
    position = 0
    for run in _CJK.finditer(word):
        rest = word[position : run.start()]
        if len(rest) > 1 and not rest.isdigit():
            out.append(rest)
        chars = run.group()
        out.extend([chars] if len(chars) == 1 else [chars[i : i + 2] for i in range(len(chars) - 1)])
        position = run.end()
    rest = word[position:]
    if len(rest) > 1 and not rest.isdigit():
        out.append(rest)
    return out


class _Language:
    """One language's stop words and (remembered) stems."""

    __slots__ = ("stems", "stemmer", "stop")

    def __init__(self, code: str | None):
        self.stop = _stop_words(code)
        self.stems: dict[str, str] = {}
        algorithm = SNOWBALL.get(code or "")
        if algorithm:
            import snowballstemmer

            self.stemmer = snowballstemmer.stemmer(algorithm)
        else:
            self.stemmer = None

    def stem(self, word: str) -> str:
        found = self.stems.get(word)
        if found is None:
            if len(self.stems) >= STEM_CACHE:
                self.stems.clear()
            found = self.stems[word] = self.stemmer.stemWord(word) if self.stemmer else word
        return found


def _stop_words(code: str | None) -> frozenset[str]:
    if not code:
        return frozenset()
    from stop_words import StopWordError, get_stop_words

    try:
        listed = get_stop_words(code)
    except StopWordError:  # a language the package has no list for
        return frozenset()
    return frozenset(w for word in listed for w in words(word))


@lru_cache(maxsize=64)
def _language(code: str | None) -> _Language:
    return _Language(code)


def count_terms(text: str, language: str | None, keep: int = MAX_TERMS) -> dict[str, int]:
    """The ``keep`` most frequent terms of ``text`` (stop words out, stemmed) with their counts."""
    lang = _language(language)
    stop, stem = lang.stop, lang.stem
    counts: Counter[str] = Counter()
    for word, n in _counted_words(text).items():
        if word not in stop:
            counts[stem(word)] += n
    if len(counts) <= keep:
        return dict(sorted(counts.items(), key=_most_frequent))
    return dict(sorted(counts.items(), key=_most_frequent)[:keep])


def _most_frequent(item: tuple[str, int]) -> tuple[int, str]:
    return -item[1], item[0]
