"""Sphinx configuration of rnnlab's documentation site: the course's notebooks, executed, in
French and English, and the API reference, as static HTML that reads offline.

Build it with ``python docs/build.py`` (see that file); ``tests/test_docs_site.py`` checks this
configuration against the files of ``docs/`` without building.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

DOCS = Path(__file__).resolve().parent
# the sources of this checkout first, so the site documents them and not an installed rnnlab;
# the notebooks' kernels inherit PYTHONPATH
sys.path.insert(0, str(DOCS.parent / "src"))
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(DOCS.parent / "src"),
                                                         os.environ.get("PYTHONPATH")]))


def _inline_figures_profile() -> str:
    """A throw-away IPython directory whose kernels start with matplotlib's inline backend.

    The notebooks draw with matplotlib's object API (no pyplot) and end a cell with the Figure:
    only the inline backend registers the formatter that shows that Figure as an image (under
    any other backend, Agg included, Jupyter shows its repr, ``<Figure size 700x450 …>``)."""
    folder = Path(tempfile.mkdtemp(prefix="rnnlab-docs-ipython-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    (folder / "profile_default").mkdir()
    (folder / "profile_default" / "ipython_kernel_config.py").write_text(
        'c.IPKernelApp.matplotlib = "inline"\n', encoding="utf-8")
    return str(folder)


os.environ["IPYTHONDIR"] = _inline_figures_profile()

project = "rnnlab"
author = "rnnlab"
copyright = "rnnlab contributors"
language = "en"

extensions = [
    "myst_nb",  # MyST Markdown notebooks (jupytext), executed at build time
    "sphinx-mathjax-offline",  # MathJax served from _static, not from a CDN
]

root_doc = "index"
# Only the pages: the generator of the reference, the figures and the build output are not pages.
exclude_patterns = ["_build", "images", "build.py", "gen_reference.py", "**/.ipynb_checkpoints"]

# --- MyST ---------------------------------------------------------------------------------------
myst_enable_extensions = ["dollarmath", "amsmath"]
# docs/reference.md links its sections by GitHub's anchors (#rnnlabfunctional--activations-…)
myst_heading_anchors = 3

# The notebooks cite the measurements of the repository's benchmarks/README.md; on the site, that
# file is the page benchmarks.md (it includes it), so the links are pointed there when read.
REPOSITORY_LINKS = {"../../benchmarks/README.md": "../benchmarks.md"}


def _link_repository_files(app, docname: str, source: list[str]) -> None:
    for repository_path, page in REPOSITORY_LINKS.items():
        source[0] = source[0].replace(f"]({repository_path}", f"]({page}")


def _page_language(app, pagename: str, templatename, context: dict, doctree) -> None:
    """``<html lang="fr">`` on the French pages (hyphenation, screen readers); ``language`` is
    the site's, English."""
    if pagename.startswith("fr/"):
        context["language"] = "fr"


def setup(app):
    app.connect("source-read", _link_repository_files)
    app.connect("html-page-context", _page_language)


# --- notebooks ----------------------------------------------------------------------------------
nb_execution_mode = "force"  # every notebook is run at every build: the outputs are never stale
nb_execution_raise_on_error = True  # a cell that raises fails the build
nb_execution_show_tb = True  # and its traceback is printed
nb_execution_in_temp = True  # what a notebook writes goes to a temporary folder, not into docs/
# seconds per cell, against a cell that hangs; the longest cell, the Notebook's language model at
# the full budget (1,500 steps), takes about 4 minutes on two idle cores; measured on two cores
# shared with other builds (load 5 to 11): 10 and 28 minutes
nb_execution_timeout = 3600
nb_merge_streams = True
nb_number_source_lines = False

# --- HTML ---------------------------------------------------------------------------------------
html_theme = "furo"  # its fonts, scripts and styles are bundled: nothing is fetched from the web
html_title = "rnnlab"
html_static_path: list[str] = []
html_show_sourcelink = False
html_copy_source = False
