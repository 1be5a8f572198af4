"""``rnnlab lab``: the course and your models, live in the browser. :func:`create_app` builds the
ASGI application (:mod:`rnnlab.lab.app`); :func:`serve` runs it with uvicorn."""

from __future__ import annotations


def create_app(run_dirs=(), lang=None):
    """The Starlette application serving ``run_dirs`` read-only (see :mod:`rnnlab.lab.app`)."""
    from .app import create_app as build

    return build(run_dirs, lang)


__all__ = ["create_app"]
