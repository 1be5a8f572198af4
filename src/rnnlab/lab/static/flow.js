// Gradient flow: exercise 1.2 of the TP (‖Jⁿ‖ from /api/flow) and the three cells' exact gradient
// against distance (/api/flow/cells). The page draws what the server computed.
"use strict";

const F = {W: null, slope: 0.9, radius: null, nMax: 30, low: 0.01, high: 100, result: null};
const E2 = Lab.el;
const NORM_COLOURS = {"2": "#2457c5", fro: "#d6402c", max: "#1b7f3b"};
const CELL_COLOURS = {rnn: "#d6402c", lstm: "#2457c5", gru: "#1b7f3b"};

function layoutFlow() {
  document.getElementById("page").append(
    E2("div", {class: "row"},
      E2("div", {class: "card", style: "flex: 0 1 25rem"},
        E2("div", {class: "param"}, E2("div", {class: "name", "data-i18n": "W_hh"}), E2("div", {id: "W"})),
        E2("div", {class: "controls", style: "margin-top:.6rem"},
          Lab.field("size",
            E2("select", {id: "size"}, ...[1, 2, 3, 4, 5, 6].map((h) => E2("option", {value: h, text: h}))))),
        E2("div", {class: "param"}, E2("div", {class: "name", "data-i18n": "slope"}), E2("div",
          {id: "slope"})),
        E2("div", {class: "param"}, E2("div", {class: "name", "data-i18n": "radius"}), E2("div",
          {id: "radius"})),
        E2("div", {class: "controls", style: "margin-top:.6rem"},
          Lab.field("n_max",
            E2("input", {type: "number", id: "n-max", value: 30, min: 1, max: 200, style: "width:5rem"})),
          Lab.field("low",
            E2("input", {type: "number", id: "low", value: 0.01, step: "any", style: "width:6rem"})),
          Lab.field("high",
            E2("input", {type: "number", id: "high", value: 100, step: "any", style: "width:6rem"})))),
      E2("div", {class: "card grow"}, E2("h2", {"data-i18n": "norms_title"}),
        E2("div", {class: "legend", id: "norm-legend"}),
        E2("svg", {id: "norm-plot", style: "width:100%; height:auto"}),
        E2("table", {class: "facts", id: "flow-facts"}))),
    E2("div", {class: "card"}, E2("h2", {"data-i18n": "cells_title"}),
      E2("div", {class: "controls"},
        Lab.field("source", E2("select", {id: "source"})),
        Lab.field("steps",
          E2("input", {type: "number", id: "cells-steps", value: 20, min: 1, max: 200, style: "width:5rem"})),
        Lab.field("hidden",
          E2("input", {type: "number", id: "cells-hidden", value: 8, min: 1, max: 64, style: "width:5rem"})),
        Lab.field("seed",
          E2("input", {type: "number", id: "cells-seed", value: 0, min: 0, style: "width:5rem"})),
        E2("button", {type: "button", id: "cells-go", "data-i18n": "compute"})),
      E2("div", {class: "legend", id: "cells-legend"}),
      E2("svg", {id: "cells-plot", style: "width:100%; height:auto"})));
  Lab.translate();
}

function buildMatrix() {
  const box = document.getElementById("W");
  const H = F.W.length;
  const grid = E2("div", {class: "matrix", style: `grid-template-columns: repeat(${H}, auto)`});
  F.W.forEach((row, i) => row.forEach((v, j) => grid.append(Lab.numberInput(v, (x) => {
    F.W[i][j] = x; F.radius = null; refresh();
  }, {id: `W-${i}-${j}`, min: -2, max: 2}))));
  box.replaceChildren(grid);
  document.getElementById("size").value = String(H);
}

function buildScalars() {
  document.getElementById("slope").replaceChildren(Lab.numberInput(F.slope,
    (x) => { F.slope = x; refresh(); },
    {id: "slope-value", min: 0, max: 1, step: 0.01}));
  const rho = F.result ? F.result.W_spectral_radius : 1;
  document.getElementById("radius").replaceChildren(Lab.numberInput(Number(rho.toFixed(4)), (x) => {
    F.radius = x; refresh(true);
  }, {id: "radius-value", min: 0, max: 2, step: 0.01}));
}

let flowStarted = null;
const refresh = Lab.debounce((rescaled) => compute(rescaled), 30);

async function compute(rescaled = false) {
  flowStarted = flowStarted ?? performance.now();
  const body = {W_hh: F.W, slope: F.slope, n_max: +document.getElementById("n-max").value || 30,
                low: +document.getElementById("low").value, high: +document.getElementById("high").value};
  if (F.radius !== null) body.radius = F.radius;
  let r;
  try { r = await Lab.api("/api/flow", body); } catch (err) { if (!err.handled) throw err; return; }
  F.result = r;
  if (rescaled) { F.W = r.W_hh; F.radius = null; buildMatrix(); }
  drawNorms();
  const ms = performance.now() - flowStarted;
  flowStarted = null;
  Lab.timings.flow = ms;
  document.body.dataset.flowRenders = String(+(document.body.dataset.flowRenders || 0) + 1);
}

function drawNorms() {
  const r = F.result;
  const series = Object.entries(r.norms).map(([ord, values]) => ({name: ord, color: NORM_COLOURS[ord],
    points: values.map((y, n) => [n, y])}));
  Lab.plot(document.getElementById("norm-plot"), series, {logY: true, xLabel: "n", yLabel: "‖Jⁿ‖",
    hlines: [{y: r.low, color: "#7a5c00", label: `${Lab.t("low")} ${r.low}`},
             {y: r.high, color: "#b3261e", label: `${Lab.t("high")} ${r.high}`}]});
  document.getElementById("norm-legend").replaceChildren(...Object.entries(r.norm_names).map(([ord, name]) =>
    E2("span", {style: `--c:${NORM_COLOURS[ord]}`, text: name})));
  const complex = ([re, im]) => `${Lab.show(re)} ${im < 0 ? "−" : "+"} ${Lab.show(Math.abs(im))}i`;
  const eig = r.eigenvalues.map(([re, im]) => (im === 0 ? Lab.show(re) : complex([re, im])));
  const rows = [[Lab.t("eigen"), eig.join(", ")], [Lab.t("rho"), Lab.show(r.spectral_radius)],
                [Lab.t("specnorm"), Lab.show(r.spectral_norm)], ["|λ(W_hh)|", Lab.show(r.W_spectral_radius)]];
  for (const ord of Object.keys(r.norms)) {
    const b = r.steps_below[ord], a = r.steps_above[ord];
    rows.push([`${Lab.t("norm")} ${ord}`, `${Lab.t("below")} ${r.low}: ${b ?? Lab.t("never")} · `
               + `${Lab.t("above")} ${r.high}: ${a ?? Lab.t("never")}`]);
  }
  document.getElementById("flow-facts").replaceChildren(...rows.map(([k, v], i) =>
    E2("tr", {}, E2("td", {text: k}), E2("td", {text: v, id: "fact-" + i}))));
  buildScalarsOnce();
}

function buildScalarsOnce() {
  const field = document.getElementById("radius-value");
  if (!field) return buildScalars();
  if (document.activeElement !== field && !document.getElementById("radius").matches(":active")) {
    field.value = String(Number(F.result.W_spectral_radius.toFixed(4)));
    document.getElementById("radius-value-slider").value = field.value;
  }
}

async function computeCells() {
  const source = document.getElementById("source").value;
  const body = {source, steps: +document.getElementById("cells-steps").value,
                hidden: +document.getElementById("cells-hidden").value,
                seed: +document.getElementById("cells-seed").value};
  let r;
  try { r = await Lab.api("/api/flow/cells", body); } catch (err) { if (!err.handled) throw err; return; }
  const series = Object.entries(r.profiles).map(([cell, values]) => ({name: cell,
    color: CELL_COLOURS[cell] || "#555", points: values.map((y, d) => [d, y])}));
  Lab.plot(document.getElementById("cells-plot"), series, {logY: true, xLabel: Lab.t("distance"),
    yLabel: "‖∂s_T/∂s_{T−d}‖₂", width: 1100, height: 340});
  document.getElementById("cells-legend").replaceChildren(...Object.keys(r.profiles).map((c) =>
    E2("span", {style: `--c:${CELL_COLOURS[c] || "#555"}`,
      text: c.toUpperCase() + (r.run ? ` (${r.run})` : "")})));
  document.body.dataset.cellsRenders = String(+(document.body.dataset.cellsRenders || 0) + 1);
}

async function fillSources() {
  const info = await Lab.api("/api/info");
  const select = document.getElementById("source"), current = select.value;
  select.replaceChildren(E2("option", {value: "random", text: Lab.t("random")}),
    ...info.runs.filter((r) => r.kind === "charlm").map((r) => E2("option", {value: String(r.index),
      text: `${Lab.t("run")} ${r.name}`})));
  if (current) select.value = current;
}

async function startFlow() {
  Lab.start("flow");
  layoutFlow();
  const ex = await Lab.api("/api/flow/exercise");
  F.W = ex.W_hh.map((r) => r.slice()); F.slope = ex.slope;
  buildMatrix();
  document.getElementById("size").addEventListener("change", (e) => {
    const H = +e.target.value;
    const old = F.W;
    const kept = (i, j) => (old[i] && old[i][j] !== undefined ? old[i][j] : (i === j ? 0.8 : 0));
    F.W = Array.from({length: H}, (_, i) => Array.from({length: H}, (_, j) => kept(i, j)));
    buildMatrix(); refresh();
  });
  for (const id of ["n-max", "low", "high"]) document.getElementById(id).addEventListener("input",
    () => refresh());
  document.getElementById("cells-go").addEventListener("click", computeCells);
  document.getElementById("source").addEventListener("change", computeCells);
  Lab.onLang.push(() => { compute(); fillSources().then(computeCells); });
  await compute();
  buildScalars();
  await fillSources();
  await computeCells();
  document.body.dataset.ready = "1";
}

startFlow();
