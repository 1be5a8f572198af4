"""French and English output. Strings are written in both languages side by side at the place
they are used — ``say("Loss", "Perte")`` — so a reader sees both and none drifts away from
its translation.

The language comes from :func:`set_language` (the CLI's ``--lang``), else ``RNNLAB_LANG``,
else the locale (``LC_ALL``, ``LC_MESSAGES``, ``LANG``): French if it starts with ``fr``.

Numbers go through :func:`integer` where a sentence shows a count: ``104,644`` in English,
``104 644`` in French (thousands grouped with a narrow no-break space).
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import re

LANGUAGES = ("en", "fr")
# A context variable, not a global: each thread and each task of a server (rnnlab lab) answers in
# its own request's language.
_current: contextvars.ContextVar[str | None] = contextvars.ContextVar("rnnlab_language", default=None)


def default_language() -> str:
    """The language the environment asks for: ``RNNLAB_LANG``, then the locale; English otherwise."""
    for var in ("RNNLAB_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var, "")
        if value:
            return "fr" if value.lower().startswith("fr") else "en"
    return "en"


def set_language(lang: str | None) -> str:
    """Set the output language (``"en"``, ``"fr"`` or ``None`` for the default); returns it."""
    if lang is not None and lang not in LANGUAGES:
        from .errors import ConfigError

        raise ConfigError(say(f"language: expected one of {', '.join(LANGUAGES)}, got {lang!r}",
                              f"langue : l'une de {', '.join(LANGUAGES)} attendue, reçu « {lang} »"))
    _current.set(lang)
    return language()


@contextlib.contextmanager
def language_kept():
    """A block in which :func:`set_language` lasts until the block ends (the language before it
    comes back, even on an error)."""
    token = _current.set(_current.get())
    try:
        yield
    finally:
        _current.reset(token)


def language() -> str:
    """The current output language, ``"en"`` or ``"fr"``."""
    return _current.get() or default_language()


def say(en: str, fr: str, lang: str | None = None) -> str:
    """The English or the French text, by ``lang`` or the current language."""
    return fr if (lang or language()) == "fr" else en


def no_break_spaces(text: str) -> str:
    """``text`` with the space before ``:`` ``;`` ``?`` ``!`` ``»`` and after ``«`` made no-break
    (U+00A0), for a French text that something wraps at ASCII spaces: no line then starts with a
    colon or a closing quote."""
    return re.sub(r" (?=[:;?!»])", "\u00a0", text).replace("« ", "«\u00a0")


def integer(n: int, lang: str | None = None) -> str:
    """``n`` with its thousands grouped as the language writes them: ``104,644`` in English,
    ``104 644`` in French (a narrow no-break space, U+202F, so that a number never breaks
    across lines)."""
    grouped = f"{int(n):,}"
    return grouped.replace(",", "\u202f") if (lang or language()) == "fr" else grouped


def guillemets(text) -> str:
    """``text`` between « », for a French sentence that quotes words rnnlab did not write (another
    library's message): its own quotes ``'…'`` and ``"…"`` become “…”, as French nests quotations
    (« … “str” … »), so that no quote of it is read as the end of the quotation."""
    inner = re.sub(r"""(?<![\w'’])(['"])([^'"\n]*)\1(?![\w'’])""", "“\\2”", str(text))
    return f"« {inner} »"
