"""Renderers: one function ``render(document, **options) -> str`` per format."""

from __future__ import annotations

from ...errors import ConfigError
from ...i18n import say

FORMATS = ("text", "md", "latex", "json", "html")


def render(document, fmt: str = "text", *, figure_dir=None, figure_stem=None, color=False, width=110) -> str:
    """The document as a string in ``fmt``; figures are written to ``figure_dir`` (text,
    Markdown, LaTeX) or inlined (HTML)."""
    if fmt == "text":
        from .text import render_text

        return render_text(document, figure_dir=figure_dir, figure_stem=figure_stem, color=color, width=width)
    if fmt == "md":
        from .markdown import render_markdown

        return render_markdown(document, figure_dir=figure_dir, figure_stem=figure_stem)
    if fmt == "latex":
        from .latex import render_latex

        return render_latex(document, figure_dir=figure_dir, figure_stem=figure_stem)
    if fmt == "json":
        from .json import render_json

        return render_json(document)
    if fmt == "html":
        from .html import render_html

        return render_html(document)
    raise ConfigError(say(f"format: expected one of {', '.join(FORMATS)}, got {fmt!r}",
                          f"format : l'un de {', '.join(FORMATS)} attendu, reçu « {fmt} »"))


__all__ = ["render", "FORMATS"]
