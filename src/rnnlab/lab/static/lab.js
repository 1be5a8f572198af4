// rnnlab lab: what the four pages share. Every number shown comes from the server (rnnlab's
// core); this file only fetches, lays out and draws.
"use strict";

const LAB_WORDS = {
  en: {
    explorer: "Cell explorer", flow: "Gradient flow", inspector: "Model inspector",
      monitor: "Training monitor",
    explorer_lead: "Pick a cell or an exercise of the course, edit any weight, input or state: every gate is "
      + "recomputed by rnnlab at once. Click a step to see its formulas with the numbers substituted.",
    flow_lead: "Exercise 1.2 of the TP made interactive: J = diag(tanh′) W_hh; how fast does ‖Jⁿ‖ vanish or "
      + "explode? Below, the exact gradient of the RNN, LSTM and GRU against distance.",
    inspector_lead: "Type or paste text: each character is coloured by the chosen unit's activation; hover "
      + "a character for the model's five most probable next characters.",
    monitor_lead: "Curves, samples and configuration of a run folder, refreshed every second while it "
      + "trains.",
    cell: "cell", preset: "exercise", start_from: "start from", paste: "paste a rnnlab trace config",
    apply: "apply", notation: "notation", course: "course", pytorch: "PyTorch", precision: "decimals",
    unrolled: "The unrolled cell", step: "step", weights: "Weights", inputs: "Inputs x_t",
    initial_state: "Initial state", backward: "Backward: ∂L/∂h_t at chosen steps",
    backward_hint: "tick a step and give ∂L/∂h_t; the path back through time is coloured by ‖∂L/∂h_t‖",
    gradients: "Gradients of the weights", export: "Export", quantity: "quantity", formula: "formula",
    substituted: "numbers substituted", value: "value", forward_step: "Forward, step",
    backward_step: "Backward, step", no_backward: "no upstream gradient given: tick a step below",
    none_preset: "(an example)", no_trace: "this exercise has no cell trace; pick another",
    trace_of: "trace", facts: "Given", redraw: "redrawn in", ms: "ms",
    W_hh: "W_hh", slope: "tanh′ (slope)", radius: "|λ| (largest eigenvalue of W_hh)", n_max: "n up to",
    low: "vanishing threshold", high: "exploding threshold", size: "H", norms_title: "‖Jⁿ‖ against n",
    eigen: "eigenvalues of J", rho: "ρ(J)", specnorm: "‖J‖₂", below: "first n below", above: "first n above",
    never: "never", norm: "norm", cells_title: "‖∂s_T/∂s_{T−d}‖₂ against the distance d",
    source: "model", random: "random (PyTorch's initialisation)", steps: "steps T", hidden: "hidden size",
    seed: "seed", compute: "compute", distance: "distance d",
    run: "run", series: "quantity", unit: "unit", text: "text", colour: "colour",
      features: "Units that track "
      + "text features", features_hint: "correlation over the start of the validation text; click to colour",
    sample: "Sampling", prime: "prime text", temperature: "temperature", top_k: "top-k", top_p: "top-p",
    length: "length", generate: "generate", model: "model", coloured_in: "coloured in",
    no_runs: "no run folder was given: rnnlab lab RUN_DIR …", step_n: "step", train_loss: "training loss",
    val_loss: "validation loss", samples: "Latest samples", configuration: "Configuration", rows: "rows",
    waiting: "waiting for the first lines…", last_step: "last step", updated: "updated",
    history: "History", chars: "characters", loss_on_y: "a loss on y_t",
    bad_json: "config: cannot read as JSON", server_error: "the server answered with an error, status",
  },
  fr: {
    explorer: "Explorateur de cellules", flow: "Flux du gradient", inspector: "Inspecteur de modèle",
    monitor: "Suivi d'entraînement",
    explorer_lead: "Choisissez une cellule ou un exercice du cours, modifiez un poids, une entrée ou "
      + "un état : "
      + "rnnlab recalcule aussitôt chaque porte. Cliquez sur un pas pour voir ses formules avec les nombres.",
    flow_lead: "L'exercice 1.2 du TP, interactif : J = diag(tanh′) W_hh ; à quelle vitesse ‖Jⁿ‖ "
      + "disparaît-il ou explose-t-il ? Plus bas, le gradient exact du RNN, du LSTM et du GRU "
      + "selon la distance.",
    inspector_lead: "Tapez ou collez un texte : chaque caractère prend la couleur de l'activation de l'unité "
      + "choisie ; survolez un caractère pour les cinq caractères suivants les plus probables.",
    monitor_lead: "Courbes, échantillons et configuration d'un dossier d'entraînement, mis à jour chaque "
      + "seconde pendant l'entraînement.",
    cell: "cellule", preset: "exercice", start_from: "partir de", paste: "coller une config de rnnlab trace",
    apply: "appliquer", notation: "notation", course: "cours", pytorch: "PyTorch", precision: "décimales",
    unrolled: "La cellule déroulée", step: "pas", weights: "Poids", inputs: "Entrées x_t",
    initial_state: "État initial", backward: "Passe arrière : ∂L/∂h_t aux pas choisis",
    backward_hint: "cochez un pas et donnez ∂L/∂h_t ; le chemin à rebours est coloré selon ‖∂L/∂h_t‖",
    gradients: "Gradients des poids", export: "Exporter", quantity: "grandeur", formula: "formule",
    substituted: "calcul détaillé", value: "valeur", forward_step: "Passe avant, pas",
    backward_step: "Passe arrière, pas", no_backward: "aucun gradient en entrée : cochez un pas plus bas",
    none_preset: "(un exemple)",
      no_trace: "cet exercice n'a pas de trace de cellule ; choisissez-en un autre",
    trace_of: "trace", facts: "Données", redraw: "redessiné en", ms: "ms",
    W_hh: "W_hh", slope: "tanh′ (pente)", radius: "|λ| (plus grande valeur propre de W_hh)",
      n_max: "n jusqu'à",
    low: "seuil de disparition", high: "seuil d'explosion", size: "H", norms_title: "‖Jⁿ‖ selon n",
    eigen: "valeurs propres de J", rho: "ρ(J)", specnorm: "‖J‖₂", below: "premier n sous le seuil",
    above: "premier n au-dessus", never: "jamais", norm: "norme",
    cells_title: "‖∂s_T/∂s_{T−d}‖₂ selon la distance d", source: "modèle",
    random: "aléatoire (initialisation de PyTorch)", steps: "pas T", hidden: "taille cachée", seed: "graine",
    compute: "calculer", distance: "distance d",
    run: "entraînement", series: "grandeur", unit: "unité", text: "texte", colour: "colorer",
    features: "Unités qui suivent des traits du texte",
    features_hint: "corrélation sur le début du texte de validation ; cliquez pour colorer",
    sample: "Échantillonnage", prime: "texte d'amorce", temperature: "température", top_k: "top-k",
    top_p: "top-p", length: "longueur", generate: "générer", model: "modèle", coloured_in: "coloré en",
    no_runs: "aucun dossier d'entraînement donné : rnnlab lab DOSSIER …", step_n: "pas",
    train_loss: "perte d'entraînement", val_loss: "perte de validation", samples: "Derniers échantillons",
    configuration: "Configuration", rows: "lignes", waiting: "en attente des premières lignes…",
    last_step: "dernier pas", updated: "mis à jour", history: "Historique", chars: "caractères",
    loss_on_y: "une perte sur y_t",
    bad_json: "config : illisible en JSON", server_error: "le serveur a répondu par une erreur, statut",
  },
};

const SVG_NS = "http://www.w3.org/2000/svg";

const Lab = {
  lang: "en",
  onLang: [],
  timings: {},
  t(key) { return (LAB_WORDS[Lab.lang] || LAB_WORDS.en)[key] ?? key; },

  start(page) {
    const asked = new URLSearchParams(location.search).get("lang");
    Lab.lang = asked || localStorage.getItem("rnnlab-lang") || document.documentElement.lang || "en";
    if (!LAB_WORDS[Lab.lang]) Lab.lang = "en";
    Lab.page = page;
    Lab.header();
    Lab.translate();
    document.getElementById("lang-" + Lab.lang)?.classList.add("current");
  },

  header() {
    const head = document.createElement("header");
    head.innerHTML = `<span class="brand">rnnlab lab</span><nav></nav>
      <span class="lang"><button id="lang-fr" type="button">FR</button><!--
      --><button id="lang-en" type="button">EN</button></span>`;
    for (const p of ["explorer", "flow", "inspector", "monitor"]) {
      const a = document.createElement("a");
      a.href = "/" + p; a.dataset.i18n = p; a.id = "nav-" + p;
      if (p === Lab.page) a.className = "current";
      a.addEventListener("click",
        (e) => { e.preventDefault(); location.href = "/" + p + "?lang=" + Lab.lang; });
      head.querySelector("nav").append(a);
    }
    for (const l of ["fr", "en"]) head.querySelector("#lang-" + l).addEventListener("click",
      () => Lab.setLang(l));
    document.body.prepend(head);
  },

  setLang(lang) {
    Lab.lang = lang;
    localStorage.setItem("rnnlab-lang", lang);
    const url = new URL(location.href);
    url.searchParams.set("lang", lang);
    history.replaceState(null, "", url);
    document.documentElement.lang = lang;
    for (const l of ["fr", "en"]) document.getElementById("lang-" + l).classList.toggle("current",
      l === lang);
    Lab.translate();
    for (const f of Lab.onLang) f();
  },

  translate(root = document) {
    for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = Lab.t(el.dataset.i18n);
  },

  // a message from elsewhere (the browser's own words) quoted as the language quotes
  quote(text) { return Lab.lang === "fr" ? `« ${text} »` : text; },

  showError(message) {
    const box = document.getElementById("error");
    if (!box) return;
    box.textContent = message || "";
    box.classList.toggle("shown", Boolean(message));
  },

  // JSON from the server; a 4xx/5xx answer shows its {"error"} and rejects
  async api(path, body) {
    const url = path + (path.includes("?") ? "&" : "?") + "lang=" + Lab.lang;
    const init = body === undefined ? {} : {method: "POST", headers: {"Content-Type": "application/json"},
                                             body: JSON.stringify({...body, lang: Lab.lang})};
    const response = await fetch(url, init);
    // a proxy's or a crashed server's answer may be no JSON: its browser-made status text is English
    const data = await response.json().catch((e) => { if (response.ok) throw e; return {}; });
    if (!response.ok) {
      const message = data.error || `${Lab.t("server_error")} ${response.status}`;
      Lab.showError(message);
      const err = new Error(message); err.status = response.status; err.handled = true; throw err;
    }
    Lab.showError("");
    return data;
  },

  debounce(fn, ms) {
    let timer = null;
    return (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };
  },

  el(tag, attrs = {}, ...children) {
    const svg = ["svg", "g", "rect", "line", "path", "text", "circle", "polyline", "title", "tspan", "defs",
                 "marker"].includes(tag);
    const node = svg ? document.createElementNS(SVG_NS, tag) : document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "text") node.textContent = v;
      else if (k === "html") node.innerHTML = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v);
    }
    for (const c of children.flat()) if (c !== null && c !== undefined) node.append(c);
    return node;
  },

  // a labelled control: <label><span data-i18n=key></span>controls…</label> (the page's language
  // fills the span)
  field(key, ...controls) {
    return Lab.el("label", {}, Lab.el("span", {"data-i18n": key}), ...controls);
  },

  // a number shown in a field or on an axis (the values themselves come from the server)
  show(x, digits = 4) {
    if (x === null || x === undefined) return "–";
    if (x !== 0 && (Math.abs(x) >= 1e5 || Math.abs(x) < 1e-3)) return x.toExponential(2);
    return String(Number(x.toFixed(digits)));
  },

  // an editable number: a field and a slider bound together; onChange(value) on every move
  numberInput(value, onChange, {id, min, max, step = 0.01} = {}) {
    const span = Math.max(2, Math.ceil(Math.abs(value) * 2));
    const lo = min ?? -span, hi = max ?? span;
    const field = Lab.el("input", {type: "number", step: "any", value: String(value), id,
                                   "aria-label": id});
    const slider = Lab.el("input", {type: "range", min: lo, max: hi, step, value: String(value),
                                    id: id ? id + "-slider" : undefined, tabindex: "-1"});
    field.addEventListener("input", () => {
      const v = parseFloat(field.value);
      if (Number.isFinite(v)) { slider.value = String(v); onChange(v); }
    });
    slider.addEventListener("input",
      () => { field.value = slider.value; onChange(parseFloat(slider.value)); });
    return Lab.el("span", {class: "num"}, field, slider);
  },

  // the rows of rnnlab trace: quantity and formula typeset (MathML from rnnlab.typeset), arithmetic, value
  rowsTable(rows, id) {
    const head = Lab.el("tr", {}, ...["quantity", "formula", "substituted", "value"].map(
      (k) => Lab.el("th", {"data-i18n": k, text: Lab.t(k)})));
    const body = rows.map((r) => Lab.el("tr", {"data-label": r.label},
      Lab.el("td", {class: "label", html: r.label_markup}),
      Lab.el("td", {class: "formula", html: r.formula_markup}),
      Lab.el("td", {class: "arith", text: r.arithmetic}),
      Lab.el("td", {class: "value num", html: r.value_markup, "data-value": r.value})));
    return Lab.el("table", {id}, Lab.el("thead", {}, head), Lab.el("tbody", {}, body));
  },

  // a line plot in SVG: series [{name, color, points: [[x, y]], dash}], log y optional
  plot(svg, series, {logY = false, xLabel = "", yLabel = "", hlines = [], width = 640, height = 300} = {}) {
    svg.replaceChildren();
    svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
    const m = {l: 62, r: 14, t: 12, b: 42};
    const pts = series.flatMap((s) => s.points).filter((p) => p[1] !== null && Number.isFinite(p[1])
                                                            && (!logY || p[1] > 0));
    if (!pts.length) return;
    const fy = (y) => (logY ? Math.log10(y) : y);
    let [x0, x1] = [Math.min(...pts.map((p) => p[0])), Math.max(...pts.map((p) => p[0]))];
    let ys = pts.map((p) => fy(p[1])).concat(hlines.filter((h) => !logY || h.y > 0).map((h) => fy(h.y)));
    let [y0, y1] = [Math.min(...ys), Math.max(...ys)];
    if (x1 === x0) x1 = x0 + 1;
    if (y1 === y0) { y0 -= 1; y1 += 1; }
    const pad = (y1 - y0) * 0.06; y0 -= pad; y1 += pad;
    const X = (x) => m.l + (x - x0) / (x1 - x0) * (width - m.l - m.r);
    const Y = (y) => height - m.b - (fy(y) - y0) / (y1 - y0) * (height - m.t - m.b);
    const g = Lab.el("g");
    g.append(Lab.el("rect", {x: m.l, y: m.t, width: width - m.l - m.r, height: height - m.t - m.b,
                             fill: "#fff", stroke: "#d6dbe4"}));
    const ticks = logY ? range(Math.ceil(y0), Math.floor(y1)).map((k) => Math.pow(10, k))
                       : niceTicks(y0, y1, 5);
    for (const v of ticks) {
      const y = Y(v);
      g.append(Lab.el("line", {x1: m.l, x2: width - m.r, y1: y, y2: y, stroke: "#eef0f5"}),
               Lab.el("text", {x: m.l - 6, y: y + 4, "text-anchor": "end", "font-size": 11, fill: "#5b6475",
                               text: logY ? "1e" + Math.round(Math.log10(v)) : Lab.show(v, 3)}));
    }
    for (const v of niceTicks(x0, x1, 8)) {
      g.append(Lab.el("text", {x: X(v), y: height - m.b + 16, "text-anchor": "middle", "font-size": 11,
                               fill: "#5b6475", text: Lab.show(v, 2)}));
    }
    for (const h of hlines) {
      if (logY && h.y <= 0) continue;
      if (fy(h.y) < y0 || fy(h.y) > y1) continue;
      g.append(Lab.el("line", {x1: m.l, x2: width - m.r, y1: Y(h.y), y2: Y(h.y), stroke: h.color,
                               "stroke-dasharray": "5 4", "stroke-width": 1.3}),
               Lab.el("text", {x: width - m.r - 4, y: Y(h.y) - 4, "text-anchor": "end", "font-size": 11,
                               fill: h.color, text: h.label}));
    }
    for (const s of series) {
      const ok = s.points.filter((p) => p[1] !== null && Number.isFinite(p[1]) && (!logY || p[1] > 0)
                                        && fy(p[1]) >= y0 && fy(p[1]) <= y1);
      if (!ok.length) continue;
      const d = ok.map((p, i) => (i ? "L" : "M") + X(p[0]).toFixed(1) + " " + Y(p[1]).toFixed(1)).join(" ");
      g.append(Lab.el("path", {d, fill: "none", stroke: s.color, "stroke-width": s.width || 2,
                               "stroke-dasharray": s.dash, class: "series", "data-name": s.name}));
      if (s.dots) for (const p of ok) g.append(Lab.el("circle", {cx: X(p[0]), cy: Y(p[1]), r: 3,
        fill: s.color}));
    }
    g.append(Lab.el("text", {x: (m.l + width - m.r) / 2, y: height - 6, "text-anchor": "middle",
                             "font-size": 12, fill: "#1d2330", text: xLabel}),
             Lab.el("text", {x: 14, y: (m.t + height - m.b) / 2, "text-anchor": "middle", "font-size": 12,
                             fill: "#1d2330", transform: `rotate(-90 14 ${(m.t + height - m.b) / 2})`,
                             text: yLabel}));
    svg.append(g);
  },
};

function range(a, b) { const out = []; for (let k = a; k <= b; k++) out.push(k); return out; }

function niceTicks(lo, hi, count) {
  const span = hi - lo, raw = span / count, mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map((k) => k * mag).find((s) => span / s <= count) || 10 * mag;
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-12; v += step) out.push(Number(v.toFixed(10)));
  return out;
}

// a colour for a value on a diverging scale (blue < 0 < red), |value| / scale in [0, 1]
function divergingColour(value, scale) {
  const a = Math.max(-1, Math.min(1, scale > 0 ? value / scale : 0));
  const [r, g, b] = a >= 0 ? [214, 64, 44] : [49, 99, 206];
  const k = Math.abs(a);
  const mix = (c) => Math.round(255 + (c - 255) * k);
  return `rgb(${mix(r)},${mix(g)},${mix(b)})`;
}

window.addEventListener("error", (e) => Lab.showError(String(e.message)));
window.addEventListener("unhandledrejection", (e) => {
  if (!(e.reason && e.reason.handled)) Lab.showError(String(e.reason));
  e.preventDefault();
});
