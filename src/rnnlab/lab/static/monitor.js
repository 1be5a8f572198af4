// Training monitor: polls /api/runs/{run}/monitor every second for the history rows it has not
// seen yet, the latest samples and the configuration; read-only.
"use strict";

const M = {run: null, columns: [], rows: [], timer: null, polls: 0};
const E3 = Lab.el;

function layoutMonitor() {
  document.getElementById("page").append(
    E3("div", {class: "card"}, E3("div", {class: "controls"},
      Lab.field("run", E3("select", {id: "run"})),
      E3("span", {class: "badge", id: "status"}))),
    E3("div", {class: "row"},
      E3("div", {class: "card grow"}, E3("h2", {"data-i18n": "history"}),
        E3("div", {class: "legend", id: "curve-legend"}), E3("svg", {id: "curves",
          style: "width:100%; height:auto"}),
        E3("table", {id: "last-rows"})),
      E3("div", {class: "card", style: "flex: 0 1 26rem"}, E3("h2", {"data-i18n": "configuration"}),
        E3("table", {class: "facts", id: "config"}))),
    E3("div", {class: "card samples"}, E3("h2", {"data-i18n": "samples"}), E3("div", {id: "samples"})));
  Lab.translate();
}

async function poll() {
  if (M.run === null || M.busy) return;  // one request at a time: a slow answer is not overtaken
  const run = M.run;
  let r;
  M.busy = true;
  try {
    r = await Lab.api(`/api/runs/${encodeURIComponent(run)}/monitor?since=${M.rows.length}`);
  } catch (err) { if (!err.handled) throw err; return; } finally { M.busy = false; }
  if (run !== M.run) return;
  if (r.total_rows < M.rows.length) { M.rows = []; return; }  // the history was rewritten: read it again
  M.columns = r.columns;
  M.rows.push(...r.rows);
  M.polls += 1;
  draw(r);
}

function column(name) {
  const k = M.columns.indexOf(name);
  if (k < 0) return [];
  return M.rows.map((row) => [row[0], row[k]]).filter((p) => p[1] !== null && p[1] !== undefined);
}

function draw(r) {
  const scores = M.columns.filter((c) => !["step", "epoch", "chars", "seconds", "lr",
    "train_loss"].includes(c));
  const colours = ["#d6402c", "#1b7f3b", "#7a3fb0", "#b07a00"];
  const series = [{name: "train_loss", color: "#2457c5", width: 1.4, points: column("train_loss")}]
    .concat(scores.map((c, k) => ({name: c, color: colours[k % colours.length], dots: true,
      points: column(c)})));
  Lab.plot(document.getElementById("curves"), series, {xLabel: Lab.t("step_n"), yLabel: "",
                                                        width: 720, height: 300});
  document.getElementById("curve-legend").replaceChildren(...series.map((s) =>
    E3("span", {style: `--c:${s.color}`, text: Lab.t(s.name)})));
  const last = M.rows.slice(-5);
  document.getElementById("last-rows").replaceChildren(
    E3("thead", {}, E3("tr", {}, ...M.columns.map((c) => E3("th", {text: c})))),
    E3("tbody", {}, ...last.map((row) => E3("tr", {}, ...row.map((v) =>
      E3("td", {class: "num-cell", text: v === null ? "" : Lab.show(v, 4)}))))));
  const lastStep = M.rows.length ? M.rows[M.rows.length - 1][0] : null;
  const status = document.getElementById("status");
  status.textContent = lastStep === null ? Lab.t("waiting")
    : `${Lab.t("last_step")} ${lastStep} · ${M.rows.length} ${Lab.t("rows")}`;
  status.dataset.step = lastStep ?? "";
  status.dataset.rows = String(M.rows.length);
  const meta = r.meta || {};
  const cfg = {...(meta.config || {}), ...(meta.kind ? {kind: meta.kind} : {}),
               ...(meta.step !== undefined && meta.step !== null ? {saved_step: meta.step} : {})};
  document.getElementById("config").replaceChildren(...Object.entries(cfg).map(([k, v]) =>
    E3("tr", {}, E3("td", {text: k}), E3("td",
      {text: typeof v === "object" ? JSON.stringify(v) : String(v)}))));
  document.getElementById("samples").replaceChildren(...r.samples.slice().reverse().map((s) =>
    E3("div", {class: "sample"}, E3("div", {class: "h", text: s.header}), E3("pre", {text: s.text}))));
}

async function chooseRun(key) {
  M.run = key; M.rows = []; M.columns = [];
  await poll();
}

async function startMonitor() {
  Lab.start("monitor");
  layoutMonitor();
  const info = await Lab.api("/api/info");
  const select = document.getElementById("run");
  if (!info.runs.length) { Lab.showError(Lab.t("no_runs")); document.body.dataset.ready = "1"; return; }
  select.replaceChildren(...info.runs.map((r) => E3("option", {value: String(r.index), text: r.name})));
  const asked = new URLSearchParams(location.search).get("run");
  if (asked !== null) select.value = asked;
  select.addEventListener("change", (e) => chooseRun(e.target.value));
  Lab.onLang.push(() => { M.rows = []; poll(); });
  await chooseRun(select.value);
  M.timer = setInterval(poll, 1000);
  document.body.dataset.ready = "1";
}

startMonitor();
