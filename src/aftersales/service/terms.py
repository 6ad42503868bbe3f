"""Issue 21 §8: the words a request's title and reporter are found by, as one indexed text column (pure functions).

Chinese is written without spaces, so no word list can say where its words end. Like the CJK analyzers of search
engines, each run of Chinese (any letters of Unicode's "other letter" class: Han, kana, Hangul…) is indexed as its
overlapping pairs of characters — 摄像机黑屏 as 摄像 像机 机黑 黑屏 — and any other run of letters and digits as one
lower-case word (``DS-2CD2T47G2`` as ``ds`` and ``2cd2t47g2``). A text is found when every term of the query is
among the request's terms; service/search.py then checks that the title or the name really contains what was
typed, so a pair that happens to occur elsewhere in the title is no false hit.

Consequences, said in the search help: Chinese is found by any two or more consecutive characters; other words only
whole (``NVR`` finds "NVR 离线", not "NVR01"); one Chinese character alone has no term (search.py falls back).
"""

import unicodedata

SEPARATOR = " "


def is_ideographic(char: str) -> bool:
    return unicodedata.category(char) == "Lo"


def is_word_char(char: str) -> bool:
    return unicodedata.category(char)[0] in "LN"


def runs(text: str) -> list[tuple[bool, str]]:
    """`text` (NFKC, case-folded) as its runs of letters and digits: (ideographic?, run); everything else separates."""
    found, current, current_kind = [], [], None
    for char in unicodedata.normalize("NFKC", text or "").casefold():
        kind = is_ideographic(char) if is_word_char(char) else None
        if kind != current_kind and current:
            found.append((current_kind, "".join(current)))
            current = []
        current_kind = kind
        if kind is not None:
            current.append(char)
    if current:
        found.append((current_kind, "".join(current)))
    return found


def terms_of(text: str) -> list[str]:
    """The terms of `text` in order (pairs for ideographic runs, words otherwise), repeats kept: SQLite's index reads
    a run of Chinese as a phrase of consecutive pairs. An ideographic run of one character has no term."""
    terms = []
    for ideographic, run in runs(text):
        terms += [run[i:i + 2] for i in range(len(run) - 1)] if ideographic else [run]
    return terms


def search_terms(*texts: str) -> str:
    """The column ServiceRequest.search_terms: the terms of every text, separated by single spaces."""
    return SEPARATOR.join(term for text in texts for term in terms_of(text))
