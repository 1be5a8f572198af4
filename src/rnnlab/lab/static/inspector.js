// Model inspector: a trained language model read by the server; each character coloured by one
// unit's activation, the top-5 next characters on hover, the units that track text features,
// and sampling.
"use strict";

const I = {run: null, model: null, last: null, started: null, colourings: 0};
const E4 = Lab.el;

function layoutInspector() {
  document.getElementById("page").append(
    E4("div", {class: "card"}, E4("div", {class: "controls"},
      Lab.field("run", E4("select", {id: "run"})),
      Lab.field("series", E4("select", {id: "series"})),
      Lab.field("unit", E4("span", {id: "unit-box"})),
      E4("button", {type: "button", id: "colour", "data-i18n": "colour"}),
      E4("span", {class: "scale"}, E4("span", {id: "scale-lo"}), E4("i"), E4("span", {id: "scale-hi"})),
      E4("span", {class: "muted", id: "model-info"}), E4("span", {class: "muted", id: "inspect-timing"}))),
    E4("div", {class: "row"},
      E4("div", {class: "card grow"},
        E4("textarea", {id: "text", rows: 4}),
        E4("div", {class: "text-view", id: "view", style: "margin-top:.6rem"})),
      E4("div", {class: "card", style: "flex: 0 1 24rem"}, E4("h2", {"data-i18n": "features"}),
        E4("p", {class: "muted", "data-i18n": "features_hint"}), E4("ul", {class: "units", id: "units"}))),
    E4("div", {class: "card"}, E4("h2", {"data-i18n": "sample"}),
      E4("div", {class: "controls"},
        Lab.field("prime", E4("input", {type: "text", id: "prime", value: "the "})),
        Lab.field("temperature",
          E4("input", {type: "number", id: "temperature", value: 0.8, step: 0.1, min: 0,
            style: "width:5rem"})),
        Lab.field("top_k", E4("input", {type: "number", id: "top-k", min: 1, style: "width:5rem"})),
        Lab.field("top_p",
          E4("input", {type: "number", id: "top-p", min: 0, max: 1, step: 0.05, style: "width:5rem"})),
        Lab.field("length",
          E4("input", {type: "number", id: "length", value: 200, min: 1, max: 2000, style: "width:5rem"})),
        Lab.field("seed",
          E4("input", {type: "number", id: "sample-seed", value: 0, min: 0, style: "width:5rem"})),
        E4("button", {type: "button", id: "generate", "data-i18n": "generate"})),
      E4("pre", {class: "out", id: "sample-out"})),
    E4("div", {class: "tooltip", id: "tooltip"}));
  Lab.translate();
}

function unitField(H, value = 0) {
  document.getElementById("unit-box").replaceChildren(Lab.numberInput(value, () => colourSoon(),
    {id: "unit", min: 0, max: H - 1, step: 1}));
}

function unitValue() { return Math.max(0, Math.round(+document.getElementById("unit").value || 0)); }

const colourSoon = Lab.debounce(() => colour(), 80);

async function colour() {
  const text = document.getElementById("text").value;
  if (!text) return;
  I.started = I.started ?? performance.now();
  const series = document.getElementById("series").value, unit = unitValue();
  let r;
  try {
    r = await Lab.api(`/api/runs/${encodeURIComponent(I.run)}/activations`, {text, series, unit});
  } catch (err) { if (!err.handled) throw err; I.started = null; return; }
  I.last = r;
  paint(r, series);
  const started = I.started;
  I.started = null;
  requestAnimationFrame(() => {
    const ms = performance.now() - started;
    Lab.timings.inspector = ms;
    Lab.timings.inspectorChars = r.chars.length;
    document.getElementById("inspect-timing").textContent =
      `${Lab.t("coloured_in")} ${ms.toFixed(0)} ${Lab.t("ms")} (${r.chars.length} ${Lab.t("chars")})`;
    I.colourings += 1;
    document.body.dataset.colourings = String(I.colourings);
  });
}

function paint(r, series) {
  // gates and sigmoids live in [0, 1]; h, c, tanh in [−1, 1] (c may exceed it: scaled by its largest |value|)
  const gate = ["i", "f", "o", "r", "z"].includes(series.split("@")[0]);
  const big = Math.max(1e-12, ...r.values.map(Math.abs));
  const scale = gate ? 1 : Math.max(1, big);
  document.getElementById("scale-lo").textContent = gate ? "0" : Lab.show(-scale, 2);
  document.getElementById("scale-hi").textContent = Lab.show(scale, 2);
  const frag = document.createDocumentFragment();
  r.chars.forEach((ch, k) => {
    const v = r.values[k];
    const span = document.createElement("span");
    span.textContent = ch === "\n" ? "↵\n" : ch;
    span.style.background = gate ? divergingColour(2 * v - 1, 1) : divergingColour(v, scale);
    span.dataset.k = String(k);
    frag.append(span);
  });
  document.getElementById("view").replaceChildren(frag);
}

function hover(e) {
  const tip = document.getElementById("tooltip");
  const k = e.target.dataset ? e.target.dataset.k : undefined;
  if (k === undefined || !I.last) { tip.style.display = "none"; return; }
  const r = I.last, series = document.getElementById("series").value;
  const lines = [`${JSON.stringify(r.chars[k])}  ${series}[${unitValue()}] = ${Lab.show(r.values[k], 4)}`]
    .concat(r.top[k].map(([c, p]) => `${JSON.stringify(c).padEnd(6)} ${(100 * p).toFixed(1).padStart(5)} %`));
  tip.textContent = lines.join("\n");
  tip.style.display = "block";
  tip.style.left = e.clientX + 14 + "px"; tip.style.top = e.clientY + 14 + "px";
  tip.dataset.k = k;
}

async function loadFeatures() {
  const list = document.getElementById("units");
  let r;
  try { r = await Lab.api(`/api/runs/${encodeURIComponent(I.run)}/features`); } catch (err) {
    if (!err.handled) throw err; list.replaceChildren(); return;
  }
  list.replaceChildren(...r.units.map((u, i) => E4("li", {}, E4("button", {type: "button", id: "feature-" + i,
    text: `${u.series}[${u.unit}] ↔ ${u.feature_label} (r = ${u.r.toFixed(2)})`,
    onclick: (e) => {
      for (const b of list.querySelectorAll("button")) b.classList.remove("current");
      e.target.classList.add("current");
      document.getElementById("series").value = u.series;
      document.getElementById("unit").value = String(u.unit);
      document.getElementById("unit-slider").value = String(u.unit);
      colour();
    }}))));
}

async function chooseRun(key) {
  I.run = key;
  let m;
  try { m = await Lab.api(`/api/runs/${encodeURIComponent(key)}/model`); } catch (err) {
    if (!err.handled) throw err; return;
  }
  I.model = m;
  const select = document.getElementById("series"), current = select.value;
  select.replaceChildren(...m.series.map((s) => E4("option", {value: s, text: m.series_labels[s]})));
  if (m.series.includes(current)) select.value = current;
  unitField(m.hidden_size, document.getElementById("unit") ? Math.min(unitValue(), m.hidden_size - 1) : 0);
  const box = document.getElementById("text");
  if (!box.value || box.dataset.example === box.value) {  // the user's own text stays
    box.value = m.example;
    box.dataset.example = m.example;
  }
  document.getElementById("model-info").textContent =
    `${m.cell.toUpperCase()} ${m.num_layers}×${m.hidden_size} · ${m.vocab_size} ${Lab.t("chars")}`
    + ` · ${Lab.t("step_n")} ${m.step}`;
  await colour();
  await loadFeatures();
}

async function generate() {
  const num = (id) => { const v = document.getElementById(id).value; return v === "" ? null : +v; };
  const r = await Lab.api(`/api/runs/${encodeURIComponent(I.run)}/sample`, {
    prime: document.getElementById("prime").value, temperature: num("temperature"), top_k: num("top-k"),
    top_p: num("top-p"), length: num("length"), seed: num("sample-seed")});
  document.getElementById("sample-out").textContent = r.prime + r.text;
}

async function startInspector() {
  Lab.start("inspector");
  layoutInspector();
  const info = await Lab.api("/api/info");
  const runs = info.runs.filter((r) => r.kind === "charlm");
  if (!runs.length) { Lab.showError(Lab.t("no_runs")); document.body.dataset.ready = "1"; return; }
  const select = document.getElementById("run");
  select.replaceChildren(...runs.map((r) => E4("option", {value: String(r.index), text: r.name})));
  select.addEventListener("change", (e) => chooseRun(e.target.value));
  document.getElementById("series").addEventListener("change", () => colour());
  document.getElementById("colour").addEventListener("click", () => colour());
  document.getElementById("text").addEventListener("input", colourSoon);
  document.getElementById("generate").addEventListener("click", () => generate().catch((err) => {
    if (!err.handled) throw err;
  }));
  const view = document.getElementById("view");
  view.addEventListener("mousemove", hover);
  view.addEventListener("mouseleave", () => { document.getElementById("tooltip").style.display = "none"; });
  Lab.onLang.push(() => { if (I.run !== null) chooseRun(I.run); });
  await chooseRun(select.value);
  document.body.dataset.ready = "1";
}

startInspector();
