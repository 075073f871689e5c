"""Formatting that needs no framework."""


def slug(text: str) -> str:
    return "-".join(text.lower().split())
