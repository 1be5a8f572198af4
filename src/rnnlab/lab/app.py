"""The ASGI application of ``rnnlab lab`` (Starlette): four pages (static HTML, CSS and vanilla
JavaScript, no build step, nothing fetched from the network) and JSON endpoints through which
every number reaches a page from rnnlab's core.

Endpoints (``?lang=fr|en`` or a ``"lang"`` field choose the language of the answer)::

    GET  /api/info                          runs, cells, exercise presets, the server's language
    GET  /api/example/{variant}             the example config of rnn | lstm | gru | gru-pytorch
    GET  /api/preset/{id}                   an exercise's traces, as configs
    POST /api/trace   {config, precision}   the trace: values, rows, backward, gradients
    POST /api/convert {config, notation}    the same state in the course's or PyTorch's notation
    POST /api/export  {config, format}      json | md | latex
    GET  /api/flow/exercise                 the TP's exercise 1.2 (W_hh, tanh′)
    POST /api/flow    {W_hh, slope, radius, n_max, low, high}   ‖Jⁿ‖ in three norms
    POST /api/flow/cells {source, steps, hidden, seed}          ‖∂s_T/∂s_{T−d}‖₂ against d
    GET  /api/runs/{run}/monitor?since=N    history rows from N on, samples, configuration
    GET  /api/runs/{run}/model              the model's cell, sizes, quantities
    POST /api/runs/{run}/activations {text, series, unit}       a unit over a text, top-5 next
    GET  /api/runs/{run}/features           the units that track text features
    POST /api/runs/{run}/sample {prime, length, temperature, top_k, top_p, seed}

Stateless: every request carries what it needs, so several tabs work at once. A bad request
gets a 4xx answer ``{"error": "..."}`` naming the field and what was expected.
"""

from __future__ import annotations

import contextvars
import json
import math
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from .. import i18n
from ..errors import RnnlabError
from ..i18n import say
from . import explorer, flow, runs

STATIC = Path(__file__).parent / "static"
PAGES = ("explorer", "flow", "inspector", "monitor")
MAX_BODY = 256 * 1024  # bytes: a trace config or a text to inspect is far smaller
MAX_TEXT = 20_000  # characters the inspector reads at once
MAX_SAMPLE = 2_000


class RequestError(RnnlabError, ValueError):
    """A request the server refuses, with its HTTP status."""

    def __init__(self, message, status=400):
        super().__init__(message)
        self.status = status


def _finite(value):
    """JSON has no NaN or ∞: they travel as null."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def reply(data, status=200) -> Response:
    body = json.dumps(_finite(data), ensure_ascii=False, allow_nan=False)
    return Response(body, status_code=status, media_type="application/json",
                    headers={"Cache-Control": "no-store"})


def _no_constant(name):
    raise RequestError(say(f"request body: {name} is not a number JSON allows; expected finite numbers",
                           f"corps de la requête : {name} n'est pas un nombre JSON ; nombres finis attendus"))


async def read_body(request: Request) -> tuple[bytes, int]:
    """The request's body and its size; reading stops past :data:`MAX_BODY` bytes (the size is
    then what was declared or read, and the body empty)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY:
        return b"", int(declared)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            return b"", len(body)
    return bytes(body), len(body)


def parse_json(body: bytes, size: int) -> dict:
    """The request's JSON object (413 beyond :data:`MAX_BODY` bytes; NaN and ∞ refused)."""
    if size > MAX_BODY:
        raise _too_large(size)
    try:
        data = json.loads(body.decode("utf-8"), parse_constant=_no_constant)
    except RequestError:
        raise
    except (UnicodeDecodeError, ValueError) as exc:
        raise RequestError(say(f"request body: expected a JSON object, got invalid JSON ({exc})",
                               f"corps de la requête : objet JSON attendu, reçu du JSON invalide ({exc})"))
    if not isinstance(data, dict):
        raise RequestError(say(f"request body: expected a JSON object, got {type(data).__name__}",
                               f"corps de la requête : objet JSON attendu, reçu {type(data).__name__}"))
    return data


def _fr(number) -> str:
    """An integer as French writes it: thousands grouped by a narrow no-break space."""
    return f"{number:,}".replace(",", "\u202f") if isinstance(number, int) else str(number)


def _got_fr(value) -> str:
    return _fr(value) if isinstance(value, int) and not isinstance(value, bool) else f"{value!r:.60}"


def _too_large(size):
    return RequestError(say(f"request body: {size} bytes is too large; expected at most {MAX_BODY} bytes",
                            f"corps de la requête : {_fr(size)} octets, c'est trop ; au plus {_fr(MAX_BODY)} "
                            "octets attendus"), status=413)


def field(data: dict, name: str, kind, default=..., low=None, high=None):
    """``data[name]`` of type ``kind`` (int, float, str, dict, list), within [low, high]."""
    if name not in data or data[name] is None:
        if default is ...:
            raise RequestError(say(f"'{name}': missing; expected {_kind(kind)}",
                                   f"« {name} » : absent ; {_kind(kind)} attendu"))
        return default
    value = data[name]
    ok = isinstance(value, kind) and not isinstance(value, bool)
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value, ok = float(value), True
    if ok and kind in (int, float):
        ok = math.isfinite(value) and (low is None or value >= low) and (high is None or value <= high)
    if not ok:
        bounded = low is not None and high is not None
        en = f" in [{low}, {high}]" if bounded else ""
        fr = f" dans [{_fr(low)} ; {_fr(high)}]" if bounded else ""
        raise RequestError(say(f"'{name}': expected {_kind(kind)}{en}, got {value!r:.60}",
                               f"« {name} » : {_kind(kind)}{fr} attendu, reçu {_got_fr(value)}"))
    return value


def _kind(kind):
    return {int: say("an integer", "un entier"), float: say("a number", "un nombre"),
            str: say("a string", "une chaîne"), dict: say("an object", "un objet"),
            list: say("a list", "une liste")}[kind]


def _language(request: Request, data: dict | None, default: str) -> str:
    lang = (data or {}).get("lang") or request.query_params.get("lang") or default
    if lang not in i18n.LANGUAGES:
        raise RequestError(say(f"'lang': expected 'en' or 'fr', got {lang!r:.20}",
                               f"« lang » : « en » ou « fr » attendu, reçu « {lang:.20} »"))
    return lang


def create_app(run_dirs=(), lang: str | None = None) -> Starlette:
    """The application serving ``run_dirs`` (read-only), in ``lang`` by default (else the
    environment's language)."""
    refs = runs.run_refs(run_dirs)
    default_lang = lang or i18n.default_language()

    def endpoint(handler, body=False):
        """Wrap ``handler(request, data)``: the language of the answer, the JSON body, errors as 4xx JSON.
        The handler runs in a worker thread, in a copy of the context: tabs are answered in
        parallel, each in its own request's language."""

        def work(request: Request, body_and_size):
            try:
                i18n.set_language(_language(request, None, default_lang))
                data = parse_json(*body_and_size) if body else None
                if data is not None:
                    i18n.set_language(_language(request, data, default_lang))
                return reply(handler(request, data))
            except RequestError as exc:
                return reply({"error": str(exc)}, exc.status)
            except runs.NotFound as exc:
                return reply({"error": str(exc)}, 404)
            except (RnnlabError, FileNotFoundError) as exc:
                return reply({"error": str(exc)}, 400 if not isinstance(exc, FileNotFoundError) else 404)

        async def call(request: Request):
            body_and_size = await read_body(request) if body else None
            return await run_in_threadpool(contextvars.copy_context().run, work, request, body_and_size)

        return call

    def ref(request):
        return runs.find_run(refs, request.path_params["run"])

    def info(request, _):
        from .. import cells
        from ..trace.presets import PRESETS

        return {"lang": i18n.language(), "pages": list(PAGES), "variants": list(explorer.VARIANTS),
                "cells": list(cells.names()),
                "runs": [{"index": r.index, "name": r.name, "kind": (runs.read_meta(r) or {}).get("kind")}
                         for r in refs],
                "presets": [{"id": p.id, "source": p.source, "title": p.title} for p in PRESETS.values()]}

    def example(request, _):
        return {"config": explorer.variant_config(request.path_params["variant"])}

    def preset(request, _):
        from ..errors import ConfigError

        try:
            return explorer.preset_traces(request.path_params["id"])
        except ConfigError as exc:
            raise runs.NotFound(str(exc)) from None

    def trace(request, data):
        precision = field(data, "precision", int, 4, 0, 15)
        return explorer.trace_payload(field(data, "config", dict), precision)

    def convert(request, data):
        return {"config": explorer.convert(field(data, "config", dict), field(data, "notation", str))}

    def export(request, data):
        return explorer.export(field(data, "config", dict), field(data, "format", str),
                               field(data, "precision", int, 4, 0, 15))

    def flow_exercise(request, _):
        return flow.exercise_12()

    def flow_linear(request, data):
        W = field(data, "W_hh", list)
        return flow.linearised(W, field(data, "slope", float, 0.9, 0.0, 10.0),
                               field(data, "radius", float, None, 0.0, 100.0),
                               field(data, "n_max", int, 30, 1, flow.MAX_STEPS),
                               field(data, "low", float, 0.01, 1e-300, 1e300),
                               field(data, "high", float, 100.0, 1e-300, 1e300))

    def flow_cells(request, data):
        source = field(data, "source", str, "random")
        steps = field(data, "steps", int, 20, 1, flow.MAX_STEPS)
        if source == "random":
            return flow.random_profiles(steps, field(data, "hidden", int, 8, 1, flow.MAX_HIDDEN),
                                        field(data, "seed", int, 0, 0, 2**32 - 1))
        return runs.trained_profile(runs.find_run(refs, source), steps)

    def monitor(request, _):
        since = request.query_params.get("since", "0")
        if not since.isdigit():
            raise RequestError(say(f"'since': expected a row number ≥ 0, got {since!r:.20}",
                                   f"« since » : numéro de ligne ≥ 0 attendu, reçu {since!r:.20}"))
        return runs.monitor(ref(request), int(since))

    def model(request, _):
        return runs.describe(ref(request))

    def activations(request, data):
        text = field(data, "text", str)
        if len(text) > MAX_TEXT:
            raise RequestError(say(f"'text': {len(text)} characters; expected at most {MAX_TEXT}",
                                   f"« text » : {_fr(len(text))} caractères ; "
                                   f"au plus {_fr(MAX_TEXT)} attendus"),
                               413)
        return runs.activations(ref(request), text, field(data, "series", str, "h"),
                                field(data, "unit", int, 0))

    def features(request, _):
        return runs.feature_units(ref(request))

    def sample(request, data):
        top_k = field(data, "top_k", int, None, 1, 10**6)
        top_p = field(data, "top_p", float, None, 0.0, 1.0)
        return runs.sample(ref(request), field(data, "prime", str, "\n"),
                           field(data, "length", int, 200, 1, MAX_SAMPLE),
                           field(data, "temperature", float, 0.8, 0.0, 100.0), top_k, top_p,
                           field(data, "seed", int, None, 0, 2**32 - 1))

    def page(name):
        html = (STATIC / "page.html").read_text(encoding="utf-8").replace("{page}", name).replace(
            "{lang}", default_lang)  # one shell for every page: its script draws it

        async def serve(request):  # in the server's language unless the page is told otherwise
            return Response(html, media_type="text/html", headers={"Cache-Control": "no-store"})
        return serve

    async def not_found(request: Request, exc: HTTPException):
        if request.url.path.startswith("/api/") or exc.status_code != 404:
            return reply({"error": say(f"{request.url.path}: {exc.detail}",
                                       f"{request.url.path} : {exc.detail}")}, exc.status_code)
        return reply({"error": say(f"{request.url.path}: no such page; expected one of /{', /'.join(PAGES)}",
                                   f"{request.url.path} : page inconnue ; une de /{', /'.join(PAGES)} "
                                   "attendue")}, 404)

    async def typeset_css(request):
        from ..typeset import CSS

        return Response(CSS, media_type="text/css")

    routes = [Route("/", lambda request: RedirectResponse("/explorer")),
              Route("/typeset.css", typeset_css),
              *(Route(f"/{name}", page(name)) for name in PAGES),
              Route("/api/info", endpoint(info)),
              Route("/api/example/{variant}", endpoint(example)),
              Route("/api/preset/{id}", endpoint(preset)),
              Route("/api/trace", endpoint(trace, True), methods=["POST"]),
              Route("/api/convert", endpoint(convert, True), methods=["POST"]),
              Route("/api/export", endpoint(export, True), methods=["POST"]),
              Route("/api/flow/exercise", endpoint(flow_exercise)),
              Route("/api/flow", endpoint(flow_linear, True), methods=["POST"]),
              Route("/api/flow/cells", endpoint(flow_cells, True), methods=["POST"]),
              Route("/api/runs/{run}/monitor", endpoint(monitor)),
              Route("/api/runs/{run}/model", endpoint(model)),
              Route("/api/runs/{run}/activations", endpoint(activations, True), methods=["POST"]),
              Route("/api/runs/{run}/features", endpoint(features)),
              Route("/api/runs/{run}/sample", endpoint(sample, True), methods=["POST"]),
              Mount("/static", StaticFiles(directory=STATIC), name="static")]
    return Starlette(routes=routes, exception_handlers={HTTPException: not_found})
