"""French and English output. Strings are written in both languages side by side at the place
they are used — ``say("Loss", "Perte")`` — so a reader sees both and none drifts away from
its translation.

The language comes from :func:`set_language` (the CLI's ``--lang``), else ``RNNLAB_LANG``,
else the locale (``LC_ALL``, ``LC_MESSAGES``, ``LANG``): French if it starts with ``fr``.
"""

from __future__ import annotations

import os

LANGUAGES = ("en", "fr")
_current: str | None = None


def default_language() -> str:
    """The language the environment asks for: ``RNNLAB_LANG``, then the locale; English otherwise."""
    for var in ("RNNLAB_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var, "")
        if value:
            return "fr" if value.lower().startswith("fr") else "en"
    return "en"


def set_language(lang: str | None) -> str:
    """Set the output language (``"en"``, ``"fr"`` or ``None`` for the default); returns it."""
    global _current
    if lang is not None and lang not in LANGUAGES:
        from .errors import ConfigError

        raise ConfigError(f"language: expected one of {', '.join(LANGUAGES)}, got {lang!r}")
    _current = lang
    return language()


def language() -> str:
    """The current output language, ``"en"`` or ``"fr"``."""
    return _current or default_language()


def say(en: str, fr: str, lang: str | None = None) -> str:
    """The English or the French text, by ``lang`` or the current language."""
    return fr if (lang or language()) == "fr" else en


def grouped(n: int, lang: str | None = None) -> str:
    """An integer with its thousands grouped: ``20,000`` in English, ``20 000`` (narrow no-break
    spaces) in French."""
    return say(f"{n:,}", f"{n:,}".replace(",", "\u202f"), lang)
