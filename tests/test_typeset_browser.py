"""The typeset page in a real browser: Playwright drives the system Chromium (browser downloads are not
reachable, so it is pointed at /usr/bin/chromium or the first chromium on the PATH). Exercise 2.2's
HTML page is loaded and measured: every MathML formula is laid out with a size, fractions and
subscripts are placed as mathematics (not as inline text), numbers line up on their decimal point,
and no SVG label of the unrolled diagram leaves its SVG box. A screenshot is saved beside the page.

Without Chromium or Playwright the test skips, unless ``CI=true``, where it fails."""

import os
import shutil

import pytest

from rnnlab.i18n import set_language
from rnnlab.trace.presets import build
from rnnlab.trace.render import render

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]


def _chromium():
    if os.path.exists("/usr/bin/chromium"):
        return "/usr/bin/chromium"
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    return None


def _missing(what):
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but {what}")
    pytest.skip(what)


@pytest.fixture
def browser_page():
    executable = _chromium()
    if executable is None:
        _missing("no chromium is installed")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("playwright is not installed (pip install -e '.[test]')")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            errors = []
            page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            yield page, errors
        finally:
            browser.close()


MEASURE = """() => {
  const box = e => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; };
  const maths = [...document.querySelectorAll('math')].map(m => box(m));
  const fracs = [...document.querySelectorAll('mfrac')].map(f => [box(f.children[0]), box(f.children[1])]);
  const subs = [...document.querySelectorAll('msub')].map(s => [box(s.children[0]), box(s.children[1])]);
  const labels = [], shapes = [];
  [...document.querySelectorAll('svg.diagram')].forEach((svg, n) => {
    const vb = svg.viewBox.baseVal;
    for (const t of svg.querySelectorAll('text')) {
      const b = t.getBBox();
      labels.push({svg: n, text: t.textContent, x: b.x, y: b.y, w: b.width, h: b.height,
                   vw: vb.width, vh: vb.height});
    }
    for (const r of svg.querySelectorAll('rect')) {
      const b = r.getBBox();
      shapes.push({svg: n, x: b.x, y: b.y, w: b.width, h: b.height});
    }
  });
  // where the decimal point of each aligned number falls, column by column
  const points = {};
  [...document.querySelectorAll('table')].forEach((table, n) => {
    for (const td of table.querySelectorAll('td.num')) {
      const node = td.firstChild, k = node.textContent.indexOf('.');
      if (k < 0) continue;
      const range = document.createRange(); range.setStart(node, k); range.setEnd(node, k + 1);
      (points[n + ':' + td.cellIndex] ||= []).push(range.getBoundingClientRect().left);
    }
  });
  return {maths, fracs, subs, labels, shapes, points};
}"""


def _load(page, tmp_path, pid):
    html = render(build(pid), "html")
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "") and "https://" not in html
    path = tmp_path / f"{pid}.html"
    path.write_text(html, encoding="utf-8")
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    return page.evaluate(MEASURE)


def _laid_out_as_mathematics(got):
    """Every formula has a size; a fraction's numerator sits above its denominator, a subscript lower
    than its base and after it (inline text would put them on one line, one after the other)."""
    assert len(got["maths"]) >= 100
    empty = [m for m in got["maths"] if m[2] <= 0 or m[3] <= 0]
    assert not empty, f"{len(empty)} <math> elements have no size"
    for num, den in got["fracs"]:
        assert num[1] + num[3] <= den[1] + 0.5, (num, den)
    for base, sub in got["subs"]:
        assert sub[1] + sub[3] > base[1] + base[3] + 0.5 and sub[0] >= base[0] + base[2] - 0.5, (base, sub)


def _overlap(a, b) -> bool:
    return a["x"] < b["x"] + b["w"] and b["x"] < a["x"] + a["w"] and a["y"] < b["y"] + b["h"] \
        and b["y"] < a["y"] + a["h"]


def _inside(a, b) -> bool:
    return b["x"] <= a["x"] and a["x"] + a["w"] <= b["x"] + b["w"] and b["y"] <= a["y"] \
        and a["y"] + a["h"] <= b["y"] + b["h"]


def _labels_whole(got):
    """Each SVG label within its SVG's viewBox, over no other label, and either inside a box (the
    cell's name) or clear of every box (values, which a box drawn over them would cut)."""
    labels, shapes = got["labels"], got["shapes"]
    assert labels and shapes
    for lab in labels:
        assert lab["x"] >= -0.5 and lab["x"] + lab["w"] <= lab["vw"] + 0.5, lab
        assert lab["y"] >= -0.5 and lab["y"] + lab["h"] <= lab["vh"] + 0.5, lab
        for box in (s for s in shapes if s["svg"] == lab["svg"]):
            assert _inside(lab, box) or not _overlap(lab, box), (lab, box)
    for k, a in enumerate(labels):
        for b in labels[k + 1:]:
            assert a["svg"] != b["svg"] or not _overlap(a, b), (a, b)


def test_exercise_page_renders_its_mathematics_in_chromium(browser_page, tmp_path):
    page, errors = browser_page
    set_language("en")
    backward = _load(page, tmp_path, "tp-2.3")  # a backward pass: ∂L/∂… as fractions
    assert len(backward["fracs"]) >= 20
    _laid_out_as_mathematics(backward)

    got = _load(page, tmp_path, "tp-2.2")
    assert len(got["subs"]) >= 100
    _laid_out_as_mathematics(got)

    # the diagram (exercise 2.2 used to cut "h_0=[0.1000,"): every label whole
    assert any(lab["text"].startswith("h0 = [0.1000") for lab in got["labels"]), got["labels"][:3]
    for measured in (got, backward):
        _labels_whole(measured)

    # numbers aligned on the decimal point, in every column of numbers
    columns = [p for p in got["points"].values() if len(p) >= 2]
    assert len(columns) >= 2
    for points in columns:
        assert max(points) - min(points) <= 0.5, points

    shot = tmp_path / "tp-2.2.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 50_000
    print(f"screenshot: {shot}")
    assert not errors, errors
