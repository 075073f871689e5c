"""Tokenizing and normalizing search queries (shared by the client and the search server, no I/O)."""

from __future__ import annotations

import re
import unicodedata

_WORD = re.compile(r"[a-z0-9]+")
STOP_WORDS = frozenset({"a", "an", "and", "for", "of", "the", "to", "with"})


def fold(text: str) -> str:
    """Lower-case and strip accents: 'Crème' -> 'creme'."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


def tokenize(text: str, *, keep_stop_words: bool = False) -> list[str]:
    words = _WORD.findall(fold(text))
    return words if keep_stop_words else [w for w in words if w not in STOP_WORDS]


def parse_query(text: str) -> tuple[list[str], dict[str, str]]:
    """Split 'red shoes category:sport' into terms and field filters."""
    terms: list[str] = []
    filters: dict[str, str] = {}
    for part in text.split():
        field, sep, value = part.partition(":")
        if sep and field and value:
            filters[fold(field)] = fold(value)
        else:
            terms.extend(tokenize(part))
    return terms, filters
