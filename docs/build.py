"""Build rnnlab's documentation site: every notebook of docs/fr and docs/en executed, its figures
inline, and the API reference, as static HTML in docs/_build/html (open index.html there).

    pip install -e '.[docs]'
    python docs/build.py                  # the notebooks at the reader's budget
    python docs/build.py --budget small   # the tests' budget: a quick look

It runs ``sphinx-build -W --keep-going -T -E -b html docs docs/_build/html``: any warning, and
any cell that raises, fails the build (exit status 1 or 2), its traceback printed. Each notebook
is executed from scratch at every build (``-E``, and ``nb_execution_mode = "force"`` in conf.py).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

DOCS = Path(__file__).resolve().parent
OUTPUT = DOCS / "_build" / "html"


def sphinx_arguments(output: Path = OUTPUT) -> list[str]:
    """The arguments of sphinx-build: warnings are errors, every problem reported, the traceback
    of an error printed (a failing cell's own traceback is in it), fresh build."""
    return ["-W", "--keep-going", "-T", "-E", "-b", "html", str(DOCS), str(output)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--budget", choices=("full", "small"), default="full",
                        help="the notebooks' budget (RNNLAB_DOCS_BUDGET): full (default) or small")
    parser.add_argument("--output", type=Path, default=OUTPUT, help=f"default: {OUTPUT}")
    args = parser.parse_args(argv)

    from sphinx.cmd.build import build_main

    os.environ["RNNLAB_DOCS_BUDGET"] = args.budget
    started = time.perf_counter()
    status = build_main(sphinx_arguments(args.output))
    seconds = time.perf_counter() - started
    if status == 0:
        print(f"built in {seconds:.0f} s: open {args.output / 'index.html'}")
    else:
        print(f"the documentation build failed after {seconds:.0f} s (see above)", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
