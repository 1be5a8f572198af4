"""The documentation site's configuration agrees with the files of docs/, without building it.

``python docs/build.py`` (run by ``.ci/run``) builds the site with ``-W``: a page outside every
toctree, a link to a missing page, a missing image or a cell that raises fails it. These tests
check the first three, and the settings that make the build strict, in milliseconds; the build
itself executes every notebook and takes minutes.
"""

from __future__ import annotations

import ast
import fnmatch
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
LANGS = ("fr", "en")
# what a module of conf.py's extensions and theme is installed by
DISTRIBUTIONS = {"myst_nb": "myst-nb", "sphinx-mathjax-offline": "sphinx-mathjax-offline",
                 "furo": "furo"}


def conf() -> dict:
    """The literal top-level settings of docs/conf.py, read without running it."""
    tree = ast.parse((DOCS / "conf.py").read_text(encoding="utf-8"))
    settings = {}
    for node in tree.body:
        target = node.targets[0] if isinstance(node, ast.Assign) else getattr(node, "target", None)
        if isinstance(target, ast.Name) and node.value is not None:
            try:
                settings[target.id] = ast.literal_eval(node.value)
            except ValueError:
                pass
    return settings


def excluded(relative: str, patterns) -> bool:
    return any(relative == p or relative.startswith(p + "/") or fnmatch.fnmatch(relative, p)
               for p in patterns)


def pages() -> set[str]:
    """The docnames Sphinx reads: every .md, .rst or .ipynb under docs/ that is not excluded."""
    patterns = conf()["exclude_patterns"]
    found = set()
    for path in DOCS.rglob("*"):
        relative = path.relative_to(DOCS).as_posix()
        if path.suffix in (".md", ".rst", ".ipynb") and not excluded(relative, patterns):
            found.add(relative.rsplit(".", 1)[0])
    return found


def toctree_entries(docname: str) -> list[str]:
    """The entries of every ``{toctree}`` of a page (``docname`` or ``Title <docname>``), as docnames."""
    text = (DOCS / f"{docname}.md").read_text(encoding="utf-8")
    entries = []
    for block in re.findall(r"```\{toctree\}\n(.*?)```", text, flags=re.S):
        for line in block.splitlines():
            line = line.strip()
            if line and not line.startswith(":"):
                titled = re.search(r"<([^<>]+)>$", line)  # "Title <docname>"
                target = (DOCS / docname).parent / (titled.group(1) if titled else line)
                entries.append(target.resolve().relative_to(DOCS).as_posix())
    return entries


def test_every_page_is_in_a_toctree_and_every_entry_is_a_page():
    """With -W, a page in no toctree ("document isn't included") or an entry that names no page
    fails the build."""
    settings = conf()
    found = pages()
    assert settings["root_doc"] in found
    listed = [entry for page in sorted(found) for entry in toctree_entries(page)]
    assert sorted(set(listed) - found) == [], "toctree entries without a page"
    assert len(listed) == len(set(listed)), "a page listed twice"
    orphans = found - set(listed) - {settings["root_doc"]}
    assert not orphans, f"pages in no toctree: {sorted(orphans)}"


def test_both_languages_and_the_reference_are_on_the_site():
    found = pages()
    for lang in LANGS:
        notebooks = {f"{lang}/{p.stem}" for p in (DOCS / lang).glob("*.md")}
        assert notebooks and notebooks <= found, f"docs/{lang} notebooks missing from the site"
    assert "reference" in found


def test_nothing_but_pages_is_read():
    """The generator of the reference, the build script and the build output are not pages."""
    patterns = conf()["exclude_patterns"]
    for path in ("_build", "images", "build.py", "gen_reference.py"):
        assert excluded(path, patterns), path


def _links(text: str):
    """``(target, is_image)`` of every Markdown link and image outside code cells."""
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    text = re.sub(r"`[^`\n]*`", "", text)
    for match in re.finditer(r"(!?)\[[^\]]*\]\(([^)\s]+)\)", text):
        yield match.group(2), bool(match.group(1))


@pytest.mark.parametrize("page", sorted(pages()))
def test_links_and_images_resolve(page):
    """A relative link to a Markdown file must name a page of the site (or be one that conf.py
    points at a page); an image must exist. Otherwise -W fails on myst.xref_missing or image.not_readable."""
    source = DOCS / f"{page}.md"
    repository_links = conf()["REPOSITORY_LINKS"]
    site = pages()
    for target, is_image in _links(source.read_text(encoding="utf-8")):
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue
        path = target.split("#", 1)[0]
        if is_image:
            assert (source.parent / path).is_file(), f"{page}: image {target} not found"
            continue
        if path in repository_links:
            path = repository_links[path]
        resolved = (source.parent / path).resolve()
        assert resolved.exists(), f"{page}: link {target} to nothing"
        if resolved.suffix == ".md":
            assert resolved.is_relative_to(DOCS) and \
                resolved.relative_to(DOCS).with_suffix("").as_posix() in site, \
                f"{page}: link {target} to a Markdown file that is not a page of the site"


def test_repository_links_point_at_pages_that_include_them():
    """conf.py points the notebooks' links to a repository file at a page that includes it."""
    notebooks = DOCS / "en"  # the links are written from docs/fr or docs/en
    for repository_path, page in conf()["REPOSITORY_LINKS"].items():
        page_path = (notebooks / page).resolve()
        assert page_path.relative_to(DOCS).with_suffix("").as_posix() in pages(), page
        included = re.search(r"```\{include\}\s+(\S+)", page_path.read_text(encoding="utf-8"))
        assert included, f"{page} includes nothing"
        assert (page_path.parent / included.group(1)).resolve() == (notebooks / repository_path).resolve(), \
            f"{page} does not include {repository_path}"


def test_the_build_is_strict():
    """Cell errors and warnings fail the build; the notebooks are executed at every build."""
    settings = conf()
    assert settings["nb_execution_raise_on_error"] is True
    assert settings["nb_execution_mode"] == "force"
    assert settings["nb_execution_timeout"] > 0
    import importlib.util

    spec = importlib.util.spec_from_file_location("docs_build", DOCS / "build.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    arguments = build.sphinx_arguments()
    assert {"-W", "--keep-going", "-E"} <= set(arguments)
    assert arguments[-2:] == [str(DOCS), str(DOCS / "_build" / "html")]


def test_the_docs_extra_installs_what_conf_uses():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    names = {re.split(r"[<>=!~ \[;]", requirement)[0].lower() for requirement in extras["docs"]}
    settings = conf()
    for module in [*settings["extensions"], settings["html_theme"]]:
        assert DISTRIBUTIONS[module] in names, f"{module}: its distribution is not in the docs extra"
    assert {"sphinx", "ipykernel"} <= names


def test_notebooks_name_the_kernel_the_docs_extra_installs():
    for lang in LANGS:
        for path in (DOCS / lang).glob("*.md"):
            assert re.search(r"kernelspec:\n(?:  .*\n)*  name: python3\n", path.read_text()), path.name


def test_ci_builds_the_site_and_readme_says_how():
    """The README's two commands are the lines .ci/run runs, after the tests."""
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    commands = ["pip install -e '.[docs]'", "python docs/build.py"]
    assert all(c in ci for c in commands) and ci.index(commands[0]) < ci.index(commands[1])
    assert ci.index(commands[0]) > ci.index("pytest")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "```bash\n" + "\n".join(commands) + "\n```" in readme
    assert "docs/_build/html/index.html" in readme
    assert "docs/_build/" in (ROOT / ".gitignore").read_text().splitlines()
