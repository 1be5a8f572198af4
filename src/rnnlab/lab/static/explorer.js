// The cell explorer: a rnnlab trace config edited in place; every edit is sent to /api/trace and
// the unrolled cell, the step's rows and the gradients are redrawn from the answer.
"use strict";

const X = {cfg: null, payload: null, selected: null, editAt: null, renders: 0, presets: [], traces: []};
const E = Lab.el;

function layout() {
  const page = document.getElementById("page");
  page.append(
    E("div", {class: "card"},
      E("div", {class: "controls"},
        Lab.field("cell",
          E("select", {id: "cell"}, ...["rnn", "lstm", "gru", "gru-pytorch"].map((v) => E("option", {value: v,
            text: {rnn: "RNN (Elman)", lstm: "LSTM", gru: "GRU — course (reset before, h = (1−z)h + z h̃)",
                   "gru-pytorch": "GRU — PyTorch (reset after, h = (1−z) n + z h)"}[v]})))),
        Lab.field("preset", E("select", {id: "preset"})),
        E("label", {id: "preset-trace-label", style: "display:none"}, E("span", {"data-i18n": "trace_of"}),
          E("select", {id: "preset-trace"})),
        Lab.field("notation",
          E("select", {id: "notation"}, E("option", {value: "course", "data-i18n": "course"}),
            E("option", {value: "pytorch", "data-i18n": "pytorch"}))),
        Lab.field("precision",
          E("input", {type: "number", id: "precision", min: 0, max: 15, value: 4, style: "width:4rem"})),
        E("span", {class: "muted", id: "timing"})),
      E("details", {}, E("summary", {"data-i18n": "paste"}),
        E("textarea", {id: "paste", rows: 8}), E("button", {id: "apply", type: "button",
          "data-i18n": "apply"}))),
    E("div", {class: "card"}, E("h2", {"data-i18n": "unrolled"}), E("div", {class: "diagram",
      id: "diagram"})),
    E("div", {class: "row"},
      E("div", {class: "card grow"}, E("h2", {id: "step-title"}), E("div", {id: "step-rows"}),
        E("h3", {id: "back-title"}), E("div", {id: "back-rows"})),
      E("div", {class: "card", style: "flex: 0 1 26rem"}, E("h2", {"data-i18n": "facts"}),
        E("table", {class: "facts", id: "facts"}))),
    E("div", {class: "card"}, E("h2", {"data-i18n": "weights"}), E("div", {class: "params", id: "weights"}),
      E("h3", {"data-i18n": "inputs"}), E("div", {class: "params", id: "inputs"}),
      E("h3", {"data-i18n": "initial_state"}), E("div", {class: "params", id: "state"}),
      E("h3", {"data-i18n": "backward"}), E("p", {class: "muted", "data-i18n": "backward_hint"}),
      E("div", {class: "params", id: "upstream"})),
    E("div", {class: "card"}, E("h2", {"data-i18n": "gradients"}), E("div", {id: "gradients"})),
    E("div", {class: "card"}, E("h2", {"data-i18n": "export"}),
      E("div", {class: "controls"}, ...["json", "md", "latex"].map((f) => E("button", {type: "button",
        class: "ghost", id: "export-" + f, text: {json: "config (JSON)", md: "Markdown", latex: "LaTeX"}[f],
        onclick: () => exportAs(f)})), E("a", {id: "download", style: "display:none"})),
      E("pre", {class: "out", id: "export-out"})));
  Lab.translate();
}

// --- the config being edited --------------------------------------------------------------

function matrixOf(value) {
  if (!Array.isArray(value)) return [[value]];
  return Array.isArray(value[0]) ? value : [value];
}

function editor(name, hint, value, set, idBase) {
  const rows = matrixOf(value), nested = Array.isArray(value) && Array.isArray(value[0]);
  const grid = E("div", {class: "matrix", style: `grid-template-columns: repeat(${rows[0].length}, auto)`});
  rows.forEach((row, i) => row.forEach((v, j) => grid.append(Lab.numberInput(v, (x) => {
    if (!Array.isArray(value)) set(x); else if (nested) value[i][j] = x; else value[j] = x;
    edited();
  }, {id: `${idBase}-${i}-${j}`}))));
  return E("div", {class: "param"}, E("div", {class: "name", text: name}, hint ? E("small",
    {text: " " + hint}) : null),
           grid);
}

function buildEditors() {
  const cfg = X.cfg;
  const weights = document.getElementById("weights");
  weights.replaceChildren(...Object.entries(cfg.weights).map(([k, v]) =>
    editor(k, shapeOf(v), v, (x) => { cfg.weights[k] = x; }, "w-" + k)));
  if (cfg.output) {
    for (const k of ["W_hy", "b_y"]) weights.append(editor(k, shapeOf(cfg.output[k]), cfg.output[k],
      (x) => { cfg.output[k] = x; }, "w-" + k));
  }
  document.getElementById("inputs").replaceChildren(...cfg.inputs.map((x, t) =>
    editor(`x_${t + 1}`, "", x, null, `x-${t + 1}`)));
  const H = hiddenSize();
  cfg.initial_state = cfg.initial_state || {};
  document.getElementById("state").replaceChildren(...X.payload.state_keys.map((k) => {
    if (!cfg.initial_state[k]) cfg.initial_state[k] = Array(H).fill(0);
    return editor(`${k}_0`, "", cfg.initial_state[k], null, `s-${k}`);
  }));
  buildUpstream();
}

// the backward's starting point: ∂L/∂h_t at ticked steps (and ∂L/∂C_T for the LSTM), or, for an
// RNN with an output layer, a loss on y_t (MSE or cross-entropy) at ticked steps
function buildUpstream() {
  const cfg = X.cfg, T = cfg.inputs.length;
  const box = document.getElementById("upstream");
  const mode = cfg.upstream && cfg.upstream.loss ? "loss" : "h";
  const parts = [];
  if (cfg.output) {
    const select = E("select", {id: "upstream-mode"}, E("option", {value: "h", text: "∂L/∂h_t"}),
                     E("option", {value: "loss", "data-i18n": "loss_on_y", text: Lab.t("loss_on_y")}));
    select.value = mode;
    select.addEventListener("change", () => {
      X.cfg.upstream = select.value === "loss" ? {loss: {type: "mse", targets: {}}} : {h: {}};
      tidyUpstream(); buildUpstream(); edited();
    });
    parts.push(E("div", {class: "param"}, select));
  }
  if (mode === "loss") parts.push(...lossEditors(T));
  else parts.push(...gradientEditors(T));
  box.replaceChildren(...parts);
}

function tidyUpstream() {  // no empty tables: "upstream" only when something is given
  const up = X.cfg.upstream;
  if (!up) return;
  if (up.h && !Object.keys(up.h).length) delete up.h;
  if (up.loss && !Object.keys(up.loss.targets).length) delete up.loss;
  if (!Object.keys(up).length) delete X.cfg.upstream;
}

function upstream() { X.cfg.upstream = X.cfg.upstream || {}; return X.cfg.upstream; }

// one ticked vector: a checkbox and its fields; on(values) / off() keep the config in step
function ticked(label, id, given, size, on, off) {
  const values = given || Array(size).fill(0);
  const check = E("input", {type: "checkbox", id, ...(given ? {checked: ""} : {})});
  const fields = editor(label, "", values, null, id);
  fields.querySelector(".name").prepend(check);
  const sync = () => { if (check.checked) on(values); else off(); tidyUpstream(); };
  check.addEventListener("change", () => { sync(); edited(); });
  fields.addEventListener("input", sync);  // bubbling: after the field has stored its value
  return fields;
}

function gradientEditors(T) {
  const H = hiddenSize(), given = (X.cfg.upstream && X.cfg.upstream.h) || {};
  const out = Array.from({length: T}, (_, k) => {
    const t = String(k + 1);
    const on = (v) => { upstream().h = {...(upstream().h || {}), [t]: v}; };
    return ticked(`∂L/∂h_${t}`, `u-${t}`, given[t], H, on,
                  () => { if (X.cfg.upstream && X.cfg.upstream.h) delete X.cfg.upstream.h[t]; });
  });
  if (X.payload.state_keys.includes("C")) {
    out.push(ticked(`∂L/∂C_${T}`, "u-C", X.cfg.upstream && X.cfg.upstream.C_final, H,
                    (v) => { upstream().C_final = v; },
                    () => { if (X.cfg.upstream) delete X.cfg.upstream.C_final; }));
  }
  return out;
}

function lossEditors(T) {
  const loss = X.cfg.upstream.loss, K = X.cfg.output.W_hy.length;
  const kind = E("select", {id: "loss-type"}, E("option", {value: "mse", text: "MSE"}),
                 E("option", {value: "cross_entropy", text: "cross-entropy"}));
  kind.value = loss.type;
  kind.addEventListener("change", () => {
    loss.type = kind.value; loss.targets = {}; tidyUpstream();
    X.cfg.upstream = {loss}; buildUpstream(); edited();
  });
  const out = [E("div", {class: "param"}, kind)];
  for (let k = 0; k < T; k++) {
    const t = String(k + 1);
    const on = (v) => {
      loss.targets[t] = loss.type === "mse" ? v : Math.round(v[0]);
      X.cfg.upstream = {loss};
    };
    const off = () => { delete loss.targets[t]; };
    const given = t in loss.targets ? (loss.type === "mse" ? loss.targets[t] : [loss.targets[t]]) : null;
    out.push(ticked(loss.type === "mse" ? `target y_${t}` : `class y_${t}`, `y-${t}`, given,
                    loss.type === "mse" ? K : 1, on, off));
  }
  return out;
}

function shapeOf(v) {
  const m = matrixOf(v);
  if (Array.isArray(v) && Array.isArray(v[0])) return `(${m.length}×${m[0].length})`;
  return Array.isArray(v) ? `(${v.length})` : "";
}

function hiddenSize() { return X.payload.values.hidden_size; }

// --- recomputing --------------------------------------------------------------------------

function edited() {
  X.editAt = performance.now();
  recomputeSoon();
}

const recomputeSoon = Lab.debounce(() => recompute(), 30);

async function recompute() {
  const started = X.editAt ?? performance.now();
  const precision = parseInt(document.getElementById("precision").value, 10);
  let payload;
  try {
    payload = await Lab.api("/api/trace", {config: X.cfg,
      precision: Number.isFinite(precision) ? precision : 4});
  } catch (err) {
    if (!err.handled) throw err;
    return;
  }
  X.payload = payload;
  const T = payload.steps.length;
  if (!X.selected || X.selected > T) X.selected = T;
  render();
  X.renders += 1;
  requestAnimationFrame(() => {
    const ms = performance.now() - started;
    Lab.timings.explorer = ms;
    document.getElementById("timing").textContent = `${Lab.t("redraw")} ${ms.toFixed(0)} ${Lab.t("ms")}`;
    document.body.dataset.renders = String(X.renders);
    X.editAt = null;
  });
}

async function load(cfg) {
  X.cfg = cfg;
  X.payload = null;
  X.selected = null;
  await recompute();
  if (!X.payload) return;  // refused: the error says why
  X.cfg = X.payload.config;  // the server's reading of it: every array in its shape (T, D), (H, H + D) …
  document.getElementById("notation").value = X.cfg.notation || "course";
  document.getElementById("paste").value = JSON.stringify(X.cfg, null, 1);
  buildEditors();
}

// --- drawing ------------------------------------------------------------------------------

function fmtVec(v) {
  return v.length === 1 ? Lab.show(v[0]) : "[" + v.map((x) => Lab.show(x)).join(", ") + "]";
}

function textWidth(s, size) { return s.length * size * 0.62 + 8; }

function render() {
  const p = X.payload, v = p.values, T = v.steps.length;
  const hasC = p.state_keys.includes("C");
  const font = 12;
  const hTexts = v.steps.map((s) => `h_${s.t} = ${fmtVec(s.h)}`);
  const cTexts = hasC ? v.steps.map((s) => `C_${s.t} = ${fmtVec(s.C)}`) : [];
  const xTexts = v.steps.map((s) => `x_${s.t} = ${fmtVec(s.x)}`);
  const init = p.state_keys.map((k) => `${k}_0 = ${fmtVec(v.initial_state[k + "_0"])}`);
  const boxW = Math.max(120, ...hTexts.concat(cTexts, xTexts).map((s) => textWidth(s, font)));
  const initW = Math.max(...init.map((s) => textWidth(s, font)));
  const gap = 70, left = initW + 40, boxH = 84, top = hasC ? 62 : 52;
  const width = left + T * (boxW + gap), height = top + boxH + 64;
  const svg = E("svg", {id: "unrolled", width, height, viewBox: `0 0 ${width} ${height}`, role: "img"});
  svg.append(arrowHead());
  const path = p.backward ? Object.fromEntries(p.backward.path.map((s) => [s.t, s.d_h])) : null;
  const flow = p.backward ? Object.fromEntries(p.backward.path.map((s) => [s.t, s.d_h_prev])) : null;
  const flowC = p.backward ? Object.fromEntries(p.backward.path.map((s) => [s.t, s.d_C_prev ?? 0])) : null;
  const maxPath = path ? Math.max(1e-300, ...Object.values(path), ...Object.values(flow)) : 1;
  const laneH = top + boxH * 0.62, laneC = top + boxH * 0.22;
  init.forEach((s, k) => svg.append(E("text", {x: 8, y: (k === 0 ? laneH : laneC) + 4, "font-size": font,
                                                class: "mono", text: s})));
  for (let k = 0; k < T; k++) {
    const s = v.steps[k], t = s.t, x0 = left + k * (boxW + gap) + gap / 2;
    const colour = path ? heat(path[t], maxPath) : "#8a96ad";
    const back = path ? heat(flow[t], maxPath) : null;  // the arrow carries ∂L/∂h_{t-1} from t back
    const prevX = k === 0 ? initW + 14 : x0 - gap;
    svg.append(E("line", {x1: prevX, x2: x0 - 2, y1: laneH, y2: laneH, stroke: path ? back : "#5b6475",
                          "stroke-width": path ? 2 + 6 * flow[t] / maxPath : 1.6, "marker-end": "url(#arrow)",
                          class: "h-arrow", "data-t": t, "data-value": path ? flow[t] : null}));
    if (hasC) svg.append(E("line", {x1: prevX, x2: x0 - 2, y1: laneC, y2: laneC,
                                    stroke: path ? heat(flowC[t], maxPath) : "#5b6475",
                                    "stroke-width": path ? 2 + 6 * Math.min(1, flowC[t] / maxPath) : 1.6,
                                    "marker-end": "url(#arrow)", class: "c-arrow",
                                    "data-value": path ? flowC[t] : null}));
    const box = E("g", {class: "step-box" + (t === X.selected ? " selected" : ""), id: `step-${t}`,
                        onclick: () => { X.selected = t; render(); }},
      E("rect", {x: x0, y: top, width: boxW, height: boxH, rx: 10,
                 ...(path ? {style: `stroke:${colour}; stroke-width:${1.5 + 4 * path[t] / maxPath}`} : {})}),
      E("text", {x: x0 + boxW / 2, y: top + boxH / 2 - 10, "text-anchor": "middle", "font-size": 14,
                 "font-weight": 600, text: v.cell.toUpperCase()}),
      E("text", {x: x0 + boxW / 2, y: top + boxH / 2 + 6, "text-anchor": "middle", "font-size": 11,
                 fill: "#5b6475", text: `t = ${t}`}));
    svg.append(box);
    svg.append(E("text", {x: x0 + boxW / 2, y: top - 10 - (hasC ? 18 : 0), "text-anchor": "middle",
                          "font-size": font, class: "mono", id: `h-${t}`, "data-value": JSON.stringify(s.h),
                          text: hTexts[k]}));
    if (hasC) svg.append(E("text", {x: x0 + boxW / 2, y: top - 10, "text-anchor": "middle", "font-size": font,
                                    class: "mono", id: `C-${t}`, "data-value": JSON.stringify(s.C),
                                    fill: "#6b3fa0", text: cTexts[k]}));
    svg.append(E("line", {x1: x0 + boxW / 2, x2: x0 + boxW / 2, y1: top + boxH + 26, y2: top + boxH + 4,
                          stroke: "#5b6475", "stroke-width": 1.4, "marker-end": "url(#arrow)"}),
               E("text", {x: x0 + boxW / 2, y: top + boxH + 42, "text-anchor": "middle", "font-size": font,
                          class: "mono", text: xTexts[k]}));
    if (path) box.append(E("text", {x: x0 + boxW / 2, y: top + boxH - 10, "text-anchor": "middle",
      "font-size": 10,
                                    fill: path[t] > 0 ? "#b3261e" : "#5b6475", class: "path-norm",
                                    "data-value": path[t], text: `‖∂L/∂h_${t}‖ = ${Lab.show(path[t], 3)}`}));
  }
  document.getElementById("diagram").replaceChildren(svg);
  renderStep();
  renderFacts();
  renderGradients();
}

// the path back through time: grey where no gradient flows, red where the most does
function heat(value, max) {
  const k = Math.min(1, value / max);
  const mix = (a, b) => Math.round(a + (b - a) * k);
  return `rgb(${mix(138, 214)},${mix(150, 64)},${mix(173, 44)})`;
}

function arrowHead() {
  return E("defs", {}, E("marker", {id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 9,
                                    markerHeight: 9, markerUnits: "userSpaceOnUse",
                                      orient: "auto-start-reverse"},
                         E("path", {d: "M0 0 L10 5 L0 10 z", fill: "#5b6475"})));
}

function renderStep() {
  const p = X.payload, t = X.selected;
  document.getElementById("step-title").textContent = `${Lab.t("forward_step")} t = ${t}`;
  document.getElementById("step-rows").replaceChildren(Lab.rowsTable(p.steps[t - 1].rows, "step-table"));
  const back = p.backward && p.backward.steps.find((s) => s.t === t);
  document.getElementById("back-title").textContent = `${Lab.t("backward_step")} t = ${t}`;
  document.getElementById("back-rows").replaceChildren(back ? Lab.rowsTable(back.rows, "back-table")
    : E("p", {class: "muted", text: Lab.t("no_backward")}));
}

function renderFacts() {
  document.getElementById("facts").replaceChildren(...X.payload.facts.map(([k, v]) =>
    E("tr", {}, E("td", {text: k}), E("td", {text: v}))));
}

function renderGradients() {
  const box = document.getElementById("gradients");
  const p = X.payload;
  box.replaceChildren(p.backward ? Lab.rowsTable(p.backward.gradients, "gradient-table")
    : E("p", {class: "muted", text: Lab.t("no_backward")}));
}

async function exportAs(format) {
  const out = await Lab.api("/api/export", {config: X.cfg, format,
                                            precision: parseInt(document.getElementById("precision").value,
                                              10)});
  document.getElementById("export-out").textContent = out.text;
  const a = document.getElementById("download");
  a.href = URL.createObjectURL(new Blob([out.text], {type: "text/plain"}));
  a.download = out.filename; a.textContent = "⬇ " + out.filename; a.style.display = "";
}

// --- the menus ------------------------------------------------------------------------------

async function fillPresets() {
  const info = await Lab.api("/api/info");
  const select = document.getElementById("preset");
  const current = select.value;
  select.replaceChildren(E("option", {value: "", text: Lab.t("none_preset")}),
    ...info.presets.map((p) => E("option", {value: p.id, text: `${p.id} — ${p.title}`})));
  select.value = current;
}

async function choosePreset(id) {
  const label = document.getElementById("preset-trace-label");
  if (!id) { label.style.display = "none"; return chooseCell(document.getElementById("cell").value); }
  const found = await Lab.api("/api/preset/" + encodeURIComponent(id));
  X.traces = found.traces;
  if (!found.traces.length) { Lab.showError(Lab.t("no_trace")); return; }
  const sub = document.getElementById("preset-trace");
  sub.replaceChildren(...found.traces.map((t, k) => E("option", {value: k, text: t.title})));
  label.style.display = found.traces.length > 1 ? "" : "none";
  const cfg = found.traces[0].config;
  const torchGru = cfg.cell === "gru" && cfg.notation === "pytorch";
  document.getElementById("cell").value = torchGru ? "gru-pytorch" : cfg.cell;
  await load(cfg);
}

async function chooseCell(variant) {
  document.getElementById("cell").value = variant;
  const got = await Lab.api("/api/example/" + variant);
  await load(got.config);
}

async function start() {
  Lab.start("explorer");
  layout();
  document.getElementById("cell").addEventListener("change", (e) => {
    document.getElementById("preset").value = ""; chooseCell(e.target.value);
  });
  document.getElementById("preset").addEventListener("change", (e) => choosePreset(e.target.value));
  document.getElementById("preset-trace").addEventListener("change",
    (e) => load(X.traces[+e.target.value].config));
  document.getElementById("precision").addEventListener("input", () => edited());
  document.getElementById("notation").addEventListener("change", async (e) => {
    try {
      const got = await Lab.api("/api/convert", {config: X.cfg, notation: e.target.value});
      await load(got.config);
    } catch (err) { if (!err.handled) throw err; e.target.value = X.cfg.notation || "course"; }
  });
  document.getElementById("apply").addEventListener("click", async () => {
    let cfg;
    try { cfg = JSON.parse(document.getElementById("paste").value); } catch (err) {
      Lab.showError(`${Lab.t("bad_json")} (${Lab.quote(err.message)})`); return;
    }
    document.getElementById("preset").value = "";
    await load(cfg);
  });
  Lab.onLang.push(() => { fillPresets(); recompute(); });
  await fillPresets();
  const asked = new URLSearchParams(location.search).get("preset");
  if (asked) { document.getElementById("preset").value = asked; await choosePreset(asked); }
  else await chooseCell("lstm");
  document.body.dataset.ready = "1";
}

start();
