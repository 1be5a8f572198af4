"""``rnnlab lab [RUN_DIR …]``: the cell explorer, gradient flow, model inspector and training
monitor in the browser, served on this machine."""

from __future__ import annotations

import sys

from ..i18n import integer, say
from ._options import natural_int

LOCAL = ("127.0.0.1", "localhost", "::1")


def register(subparsers):
    p = subparsers.add_parser(
        "lab", help=say("the course and your models, live in the browser",
                        "le cours et vos modèles, en direct dans le navigateur"),
        description=say("Serve the lab (cell explorer, gradient flow, model inspector, training monitor) "
                        "and open it in the browser. Only the run folders given are served, read-only.",
                        "Sert le laboratoire (explorateur de cellules, flux du gradient, inspecteur de "
                        "modèle, suivi d'entraînement) et l'ouvre dans le navigateur. Seuls les dossiers "
                        "d'entraînement donnés sont servis, en lecture seule."))
    a = p.add_argument
    a("run_dirs", nargs="*", metavar="RUN_DIR",
      help=say("run folders to monitor and inspect (written by rnnlab train or a task command)",
               "dossiers d'entraînement à suivre et à inspecter (écrits par rnnlab train ou une tâche)"))
    a("--port", type=natural_int, default=8765, metavar="N",
      help=say("port (default 8765; 0: a free one)", "port (défaut 8765 ; 0 : un port libre)"))
    a("--host", default="127.0.0.1", metavar="ADDRESS",
      help=say("address to listen on (default 127.0.0.1: this machine only)",
               "adresse d'écoute (défaut 127.0.0.1 : cette machine seulement)"))
    a("--no-browser", action="store_true", help=say("do not open a browser", "ne pas ouvrir de navigateur"))
    p.set_defaults(run=run)


def run(args) -> int:
    import socket
    import threading
    import webbrowser

    import uvicorn

    from ..errors import ConfigError
    from ..i18n import language
    from ..lab import create_app

    if args.port > 65535:
        raise ConfigError(say(f"--port: expected an integer between 0 and 65535, got {args.port}",
                              f"--port : entier entre 0 et {integer(65535)} attendu, reçu {args.port}"))
    if args.host not in LOCAL:
        print(say(f"warning: listening on {args.host}: other machines can reach the lab (and the run folders "
                  "it serves); use --host 127.0.0.1 to keep it on this machine",
                  f"attention : écoute sur {args.host} : d'autres machines peuvent joindre le laboratoire "
                  "(et les dossiers qu'il sert) ; --host 127.0.0.1 le garde sur cette machine"),
              file=sys.stderr)
    app = create_app(args.run_dirs, language())
    sock = socket.socket(socket.AF_INET6 if ":" in args.host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((args.host, args.port))
    except OSError as exc:
        raise ConfigError(say(f"--host/--port: cannot listen on {args.host}:{args.port} ({exc.strerror})",
                              f"--host/--port : impossible d'écouter sur l'hôte {args.host}, port "
                              f"{args.port} ({exc.strerror})")) from None
    port = sock.getsockname()[1]
    shown = f"[{args.host}]" if ":" in args.host else args.host
    url = f"http://{shown}:{port}/explorer?lang={language()}"
    print(say(f"rnnlab lab: {url}  (Ctrl-C to stop)", f"rnnlab lab : {url}  (Ctrl-C pour arrêter)"),
          flush=True)
    if not args.no_browser:
        threading.Timer(0.5, webbrowser.open, (url,)).start()
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    server.run(sockets=[sock])
    return 0
