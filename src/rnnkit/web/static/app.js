/* rnnkit demo page: one section per served model, one tab per capability, plain DOM + <canvas>.
 *
 * The page reads GET /api/models and builds, for each model, the panels its `capabilities` name;
 * the API contract is the server's /openapi.json (docs at /docs). No framework, no build step, no
 * network access beyond this server.
 *
 * Stable hooks for tests and scripts. Each model is a
 *   <section data-testid="model" data-model-id="<id>" id="m<index>">
 * and every element inside it carries data-testid="<name>" (unique within its section) and the
 * unique id "m<index>-<name>". Find an element with
 *   [data-model-id="<id>"] [data-testid="<name>"]
 * Page:      page-status (loading / load errors), models, model-nav
 * Per model: tab-<capability> (role=tab button), panel-<capability> (role=tabpanel),
 *            <capability>-error (role=alert; empty while all is well), model-info
 * generate:  generate-prime (not for condlm), generate-length, generate-temperature, generate-topk, generate-seed,
 *            generate-condition (condlm only), generate-run, generate-stop,
 *            generate-output (span.prime, then span.streamed growing token by token),
 *            generate-done ("stopped: <reason> … (<n> tokens)", shown once the stream ends)
 * classify:  classify-text, classify-run, classify-bars, classify-bar (one per class, with
 *            data-class and data-probability; class "predicted" on the chosen one), classify-label
 * tag:       tag-text, tag-run, tag-output (tokens; entities are <mark data-type>), tag-legend
 * translate: translate-text, translate-beam, translate-run, translate-output, translate-score,
 *            translate-attention (canvas)
 * caption:   caption-file, caption-beam, caption-run, caption-preview (img), caption-output
 * forecast:  forecast-horizon, forecast-history, forecast-run, forecast-plot (canvas)
 * inspect:   inspect-text, inspect-units, inspect-run, inspect-layer, inspect-map, inspect-from,
 *            inspect-to, inspect-single, inspect-unit, inspect-heatmap (canvas), inspect-line
 *            (canvas), inspect-legend (canvas), inspect-readout, inspect-probabilities
 * gradients: gradients-text, gradients-run, gradients-log, gradients-plot (canvas)
 * A canvas gets data-drawn="true" once it holds a figure.
 */
"use strict";

(() => {
  // The server's defaults (rnnkit.web.settings.ServeSettings), replaced at start-up by the limits
  // in force that /openapi.json states (see `loadLimits`); the server checks them again.
  const LIMITS = {
    maxTextChars: 2000,
    maxGenerateTokens: 1000,
    maxBeam: 10,
    maxUploadBytes: 5000000,
    maxHorizon: 500,
    maxHistoryPoints: 10000,
    maxTemperature: 5.0,
    maxInspectUnits: 64,
    maxInspectChars: 500,
  };
  // LIMITS key <- [request schema, property, schema keyword] in /openapi.json.
  const SCHEMA_LIMITS = {
    maxTextChars: ["TextRequest", "text", "maxLength"],
    maxGenerateTokens: ["GenerateRequest", "length", "maximum"],
    maxTemperature: ["GenerateRequest", "temperature", "maximum"],
    maxBeam: ["TranslateRequest", "beam", "maximum"],
    maxHorizon: ["ForecastRequest", "horizon", "maximum"],
    maxHistoryPoints: ["ForecastRequest", "history", "maxItems"],
    maxInspectUnits: ["InspectRequest", "units", "maximum"],
    maxInspectChars: ["InspectRequest", "text", "maxLength"],
  };
  const IMAGE_TYPES = ["image/jpeg", "image/png", "image/webp", "image/bmp", "image/gif"];
  const TAB_TITLES = {
    generate: "Generate", classify: "Classify", tag: "Tag entities", translate: "Translate",
    caption: "Caption", forecast: "Forecast", inspect: "Inside the network",
    gradients: "Gradients through time",
  };
  const MAP_TITLES = {
    hidden: "hidden state h_t", cell: "cell state c_t", input_gate: "input gate i_t",
    forget_gate: "forget gate f_t", output_gate: "output gate o_t", reset_gate: "reset gate r_t",
    update_gate: "update gate z_t", candidate: "candidate",
  };
  const MAP_ORDER = Object.keys(MAP_TITLES);
  const STOP_REASONS = {
    length: "reached the requested length", eos: "the model ended the text (<eos>)",
    time_limit: "hit the server's time limit", user: "stopped by you",
  };
  const ENTITY_COLOURS = ["#ffd166", "#8ecae6", "#b5e48c", "#f4a3c0", "#cdb4db", "#ffb703",
    "#90e0ef", "#e9c46a"];

  // ---------------------------------------------------------------- DOM helpers

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "text") node.textContent = value;
      else if (key === "dataset") Object.assign(node.dataset, value);
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child !== null && child !== undefined) node.append(child);
    }
    return node;
  }

  /** A context for building one model's elements: ids "m<index>-<name>", data-testid <name>. */
  function namer(key) {
    return (name, tag, attrs, ...children) =>
      el(tag, { ...attrs, id: `${key}-${name}`, "data-testid": name }, ...children);
  }

  function field(make, name, label, input, hint) {
    const control = make(name, input.tag, input.attrs, ...(input.children || []));
    const hintNode = hint ? el("small", { class: "hint", id: `${control.id}-hint`, text: hint }) : null;
    if (hintNode) control.setAttribute("aria-describedby", hintNode.id);
    const wrapper = el("div", { class: "field" },
      el("label", { for: control.id, text: label }), control, hintNode);
    return { wrapper, control };
  }

  function find(section, name) {
    return section.querySelector(`[data-testid="${name}"]`);
  }

  function visibleToken(token) {
    const shown = String(token).replace(/ /g, "␣").replace(/\n/g, "↵").replace(/\t/g, "⇥");
    return shown.length > 10 ? `${shown.slice(0, 9)}…` : shown;
  }

  function clamp(value, lo, hi) {
    return Math.min(hi, Math.max(lo, value));
  }

  // ---------------------------------------------------------------- errors and the API

  class InputError extends Error {
    constructor(control, message) {
      super(message);
      this.control = control;
    }
  }

  function formatDetail(detail) {
    if (typeof detail === "string") return detail;
    if (Array.isArray(detail)) {
      return detail.map((item) => {
        const where = Array.isArray(item.loc)
          ? item.loc.filter((p) => p !== "body" && p !== "query").join(".") : "";
        return where ? `${where}: ${item.msg}` : String(item.msg || JSON.stringify(item));
      }).join("; ");
    }
    return JSON.stringify(detail);
  }

  async function readDetail(response) {
    try {
      const body = await response.json();
      if (body && body.detail !== undefined) return formatDetail(body.detail);
    } catch (_) { /* not JSON: fall through to the status line */ }
    return `${response.status} ${response.statusText}`.trim();
  }

  async function api(path, options) {
    let response;
    try {
      response = await fetch(path, options);
    } catch (_) {
      throw new Error("could not reach the server; is `rnnkit serve` still running?");
    }
    if (!response.ok) throw new Error(await readDetail(response));
    return response.json();
  }

  function postJSON(path, body) {
    return api(path, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    });
  }

  function setError(panel, message) {
    const box = panel.querySelector(".panel-error");
    box.textContent = message ? `Error: ${message}` : "";
    box.hidden = !message;
  }

  /** Run `work` for a panel: clear old errors, mark bad inputs, show the server's detail. */
  async function guarded(panel, button, work) {
    setError(panel, "");
    panel.querySelectorAll("[aria-invalid]").forEach((node) => node.removeAttribute("aria-invalid"));
    if (button) button.disabled = true;
    panel.setAttribute("aria-busy", "true");
    try {
      await work();
    } catch (err) {
      if (err instanceof InputError && err.control) {
        err.control.setAttribute("aria-invalid", "true");
        err.control.focus();
      }
      setError(panel, err.message);
    } finally {
      if (button) button.disabled = false;
      panel.removeAttribute("aria-busy");
    }
  }

  // ---------------------------------------------------------------- client-side validation

  function readText(control, what, { allowEmpty = false, limit = LIMITS.maxTextChars } = {}) {
    const text = control.value;
    if (!allowEmpty && !text.trim()) throw new InputError(control, `${what} is empty; type some text`);
    if (text.length > limit) {
      throw new InputError(control, `${what} has ${text.length} characters; the limit is ${limit}`);
    }
    return text;
  }

  function readNumber(control, what, { lo, hi, integer = false, optional = false }) {
    const raw = control.value.trim();
    if (raw === "" && optional) return null;
    const value = Number(raw);
    if (raw === "" || !Number.isFinite(value) || (integer && !Number.isInteger(value))) {
      throw new InputError(control, `${what} must be ${integer ? "a whole number" : "a number"}, got "${raw}"`);
    }
    if ((lo !== undefined && value < lo) || (hi !== undefined && value > hi)) {
      const range = hi === undefined ? `at least ${lo}` : `between ${lo} and ${hi}`;
      throw new InputError(control, `${what} must be ${range}, got ${value}`);
    }
    return value;
  }

  function readSeries(control) {
    const raw = control.value.trim();
    if (!raw) return null;
    const values = raw.split(/[\s,;]+/).filter(Boolean).map(Number);
    const bad = values.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new InputError(control, `history value ${bad + 1} is not a number`);
    if (values.length > LIMITS.maxHistoryPoints) {
      throw new InputError(control, `history has ${values.length} numbers; the limit is ${LIMITS.maxHistoryPoints}`);
    }
    return values;
  }

  // ---------------------------------------------------------------- canvas drawing

  const measure = document.createElement("canvas").getContext("2d");
  const FONT = "11px system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";

  function prepareCanvas(canvas, width, height) {
    const ratio = window.devicePixelRatio || 1;
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
    canvas.style.width = `${width}px`;
    canvas.style.height = `${height}px`;
    const ctx = canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, height);
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, width, height);
    ctx.font = FONT;
    return ctx;
  }

  function availableWidth(canvas) {
    const host = canvas.parentElement;
    return Math.max(320, Math.min(1100, (host && host.clientWidth) || 640));
  }

  function mix(a, b, t) {
    return a.map((v, i) => Math.round(v + (b[i] - v) * t));
  }

  /** Diverging blue–white–red for signed maps; white→blue for gates and weights in [0, 1]. */
  function colourFor(value, scale) {
    if (!Number.isFinite(value)) return "#999999";
    if (scale.kind === "diverging") {
      const t = clamp(value / scale.max, -1, 1);
      const rgb = t < 0 ? mix([247, 247, 247], [33, 102, 172], -t) : mix([247, 247, 247], [178, 24, 43], t);
      return `rgb(${rgb})`;
    }
    const t = clamp((value - scale.min) / (scale.max - scale.min || 1), 0, 1);
    return `rgb(${mix([255, 255, 255], [8, 48, 107], t)})`;
  }

  function formatValue(value) {
    if (!Number.isFinite(value)) return String(value);
    const size = Math.abs(value);
    if (size !== 0 && (size < 1e-3 || size >= 1e4)) return value.toExponential(2);
    return value.toFixed(size < 1 ? 3 : 2);
  }

  /**
   * A heatmap of grid[r][c] with row and column labels; hovering reports a cell via `describe`.
   * opts: rowLabels, colLabels, scale {kind, min, max}, maxHeight, maxCell (px),
   * describe(r, c) -> string.
   */
  function drawHeatmap(canvas, grid, opts) {
    const rows = grid.length;
    const cols = rows ? grid[0].length : 0;
    measure.font = FONT;
    const widest = (labels) => Math.max(0, ...labels.map((l) => measure.measureText(l).width));
    const rowLabels = opts.rowLabels.map(String);
    const colLabels = opts.colLabels.map(visibleToken);
    const upright = colLabels.every((label) => label.length <= 1);
    const left = Math.ceil(widest(rowLabels)) + 10;
    const top = upright ? 18 : Math.ceil(Math.min(90, widest(colLabels) * 0.75)) + 12;
    const largest = opts.maxCell || 30;
    const cellW = clamp((availableWidth(canvas) - left - 10) / Math.max(cols, 1), 6, largest);
    const cellH = clamp((opts.maxHeight || 320) / Math.max(rows, 1), 4, Math.min(largest, 22));
    const width = Math.ceil(left + cols * cellW + 10);
    const height = Math.ceil(top + rows * cellH + 6);
    const ctx = prepareCanvas(canvas, width, height);
    for (let r = 0; r < rows; r += 1) {
      for (let c = 0; c < cols; c += 1) {
        ctx.fillStyle = colourFor(grid[r][c], opts.scale);
        ctx.fillRect(left + c * cellW, top + r * cellH, Math.ceil(cellW), Math.ceil(cellH));
      }
    }
    ctx.fillStyle = "#222222";
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    const rowStep = Math.ceil(12 / cellH);
    for (let r = 0; r < rows; r += rowStep) ctx.fillText(rowLabels[r], left - 4, top + (r + 0.5) * cellH);
    const colStep = Math.ceil((upright ? 9 : 12) / cellW);
    for (let c = 0; c < cols; c += colStep) {
      const x = left + (c + 0.5) * cellW;
      ctx.save();
      if (upright) {
        ctx.textAlign = "center";
        ctx.fillText(colLabels[c], x, top - 8);
      } else {
        ctx.translate(x, top - 4);
        ctx.rotate(-Math.PI / 4);
        ctx.textAlign = "left";
        ctx.fillText(colLabels[c], 0, 0);
      }
      ctx.restore();
    }
    canvas.dataset.drawn = "true";
    canvas.heatmap = { left, top, cellW, cellH, rows, cols, describe: opts.describe };
  }

  function attachReadout(canvas, readout) {
    canvas.addEventListener("mousemove", (event) => {
      const geometry = canvas.heatmap;
      if (!geometry || !geometry.describe) return;
      const box = canvas.getBoundingClientRect();
      const c = Math.floor((event.clientX - box.left - geometry.left) / geometry.cellW);
      const r = Math.floor((event.clientY - box.top - geometry.top) / geometry.cellH);
      if (r >= 0 && r < geometry.rows && c >= 0 && c < geometry.cols) {
        readout.textContent = geometry.describe(r, c);
      }
    });
  }

  function formatEnd(value) {
    return (Number.isInteger(value) ? String(value) : formatValue(value)).replace("-", "−");
  }

  function drawLegend(canvas, scale, caption) {
    const width = 260;
    const ctx = prepareCanvas(canvas, width, 40);
    for (let x = 0; x < width - 20; x += 1) {
      const value = scale.min + ((scale.max - scale.min) * x) / (width - 21);
      ctx.fillStyle = colourFor(value, scale);
      ctx.fillRect(10 + x, 4, 1, 14);
    }
    ctx.strokeStyle = "#555555";
    ctx.strokeRect(10.5, 4.5, width - 21, 14);
    ctx.fillStyle = "#222222";
    ctx.textBaseline = "top";
    ctx.textAlign = "left";
    ctx.fillText(formatEnd(scale.min), 10, 22);
    ctx.textAlign = "right";
    ctx.fillText(formatEnd(scale.max), width - 10, 22);
    ctx.textAlign = "center";
    ctx.fillText(caption, width / 2, 22);
    canvas.setAttribute("aria-label", `colour scale from ${formatEnd(scale.min)} to ${formatEnd(scale.max)}: ${caption}`);
    canvas.dataset.drawn = "true";
  }

  function niceTicks(lo, hi, count) {
    if (hi <= lo) return [lo];
    const raw = (hi - lo) / count;
    const magnitude = 10 ** Math.floor(Math.log10(raw));
    const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) || raw;
    const ticks = [];
    for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) ticks.push(v);
    return ticks;
  }

  /** The whole powers of ten in [lo, hi] (log10 values), at most 8 of them. */
  function decades(lo, hi) {
    const first = Math.ceil(lo - 1e-9);
    const last = Math.floor(hi + 1e-9);
    const stride = Math.max(1, Math.ceil((last - first + 1) / 8));
    const ticks = [];
    for (let t = first; t <= last; t += stride) ticks.push(t);
    return ticks;
  }

  /** Axes over box {x, y, w, h}; returns the y mapping. Log axes take log10 values. */
  function drawAxes(ctx, box, yLo, yHi, logY) {
    ctx.strokeStyle = "#dddddd";
    ctx.fillStyle = "#222222";
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    const y = (v) => box.y + box.h - ((v - yLo) / (yHi - yLo || 1)) * box.h;
    const ticks = logY ? decades(yLo, yHi) : niceTicks(yLo, yHi, 5);
    const step = ticks.length > 1 ? ticks[1] - ticks[0] : Math.max(Math.abs(yHi - yLo), 1e-9);
    const decimals = clamp(-Math.floor(Math.log10(step) + 1e-9), 0, 6);
    const label = (t) => (logY ? `1e${t}` : (Math.abs(t) < step / 2 ? 0 : t).toFixed(decimals).replace("-", "−"));
    for (const tick of ticks) {
      ctx.beginPath();
      ctx.moveTo(box.x, Math.round(y(tick)) + 0.5);
      ctx.lineTo(box.x + box.w, Math.round(y(tick)) + 0.5);
      ctx.stroke();
      ctx.fillText(label(tick), box.x - 4, y(tick));
    }
    ctx.strokeStyle = "#555555";
    ctx.strokeRect(box.x + 0.5, box.y + 0.5, box.w, box.h);
    return y;
  }

  function drawXLabels(ctx, box, labels, xOf) {
    ctx.fillStyle = "#222222";
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    const step = Math.ceil(labels.length / Math.max(1, Math.floor(box.w / 28)));
    for (let i = 0; i < labels.length; i += step) ctx.fillText(labels[i], xOf(i), box.y + box.h + 4);
  }

  /** Lines of series [{values, start, colour, label}] over a shared x index; a legend on top. */
  function drawLines(canvas, series, opts) {
    const width = availableWidth(canvas);
    const height = opts.height || 260;
    const ctx = prepareCanvas(canvas, width, height);
    const box = { x: 56, y: 24, w: width - 70, h: height - 50 };
    const all = series.flatMap((s) => s.values).filter(Number.isFinite);
    let [lo, hi] = opts.yRange || [Math.min(...all), Math.max(...all)];
    if (hi - lo < 1e-9) [lo, hi] = [lo - 1, hi + 1];
    const pad = opts.yRange ? 0 : (hi - lo) * 0.05;
    const yOf = drawAxes(ctx, box, lo - pad, hi + pad, false);
    const total = Math.max(...series.map((s) => (s.start || 0) + s.values.length));
    const xOf = (i) => box.x + (total > 1 ? (i / (total - 1)) * box.w : box.w / 2);
    for (const s of series) {
      ctx.strokeStyle = s.colour;
      ctx.lineWidth = 2;
      ctx.beginPath();
      s.values.forEach((v, i) => {
        const px = xOf((s.start || 0) + i);
        if (i === 0) ctx.moveTo(px, yOf(v));
        else ctx.lineTo(px, yOf(v));
      });
      ctx.stroke();
    }
    ctx.lineWidth = 1;
    drawXLabels(ctx, box, opts.xLabels || Array.from({ length: total }, (_, i) => String(i)), xOf);
    let legendX = box.x;
    ctx.textAlign = "left";
    ctx.textBaseline = "middle";
    for (const s of series) {
      ctx.fillStyle = s.colour;
      ctx.fillRect(legendX, 8, 14, 4);
      ctx.fillStyle = "#222222";
      ctx.fillText(s.label, legendX + 18, 10);
      legendX += 28 + measure.measureText(s.label).width;
    }
    canvas.dataset.drawn = "true";
  }

  /** Bars of values per step, linear or log10 scale, the tokens under them. */
  function drawBars(canvas, values, labels, logY) {
    const width = availableWidth(canvas);
    const ctx = prepareCanvas(canvas, width, 260);
    const box = { x: 60, y: 12, w: width - 72, h: 210 };
    const positive = values.filter((v) => v > 0);
    const floor = positive.length ? Math.min(...positive) / 10 : 1e-12;
    const shown = values.map((v) => (logY ? Math.log10(Math.max(v, floor)) : v));
    let lo = logY ? Math.floor(Math.min(...shown)) : 0;
    let hi = logY ? Math.ceil(Math.max(...shown)) : Math.max(...shown);
    if (hi - lo < 1e-12) [lo, hi] = [lo, lo + 1];
    const yOf = drawAxes(ctx, box, lo, hi, logY);
    const slot = box.w / Math.max(values.length, 1);
    ctx.fillStyle = "#3a6ea5";
    shown.forEach((v, i) => {
      const top = yOf(v);
      ctx.fillRect(box.x + i * slot + slot * 0.15, top, Math.max(1, slot * 0.7), box.y + box.h - top);
    });
    drawXLabels(ctx, box, labels.map(visibleToken), (i) => box.x + (i + 0.5) * slot);
    canvas.dataset.drawn = "true";
  }

  // ---------------------------------------------------------------- panels

  function panelShell(make, capability) {
    const panel = make(`panel-${capability}`, "div", { class: "panel", role: "tabpanel" });
    panel.append(el("h3", { text: TAB_TITLES[capability] || capability }));
    const error = make(`${capability}-error`, "p", { class: "panel-error", role: "alert", hidden: true });
    return { panel, error };
  }

  function textArea(rows, placeholder, value, maxlength = LIMITS.maxTextChars) {
    return { tag: "textarea", attrs: { rows, maxlength, placeholder, spellcheck: "false" },
      children: value ? [value] : [] };
  }

  function numberInput(attrs) {
    return { tag: "input", attrs: { type: "number", inputmode: "decimal", ...attrs } };
  }

  function buildGenerate(model, make) {
    const { panel, error } = panelShell(make, "generate");
    const conditioned = model.task === "condlm"; // writes from <bos> given a class, no prime
    const prime = conditioned ? null : field(make, "generate-prime", "Prime text",
      textArea(2, "the text the model continues", "The "));
    const length = field(make, "generate-length", "Length (tokens)",
      numberInput({ min: 1, max: LIMITS.maxGenerateTokens, step: 1, value: 200 }));
    const temperature = field(make, "generate-temperature", "Temperature τ",
      numberInput({ min: 0, max: LIMITS.maxTemperature, step: 0.1, value: 0.8 }),
      "0 picks the likeliest token; higher is more random");
    const topK = field(make, "generate-topk", "Top-k",
      numberInput({ min: 1, step: 1, placeholder: "all" }), "sample only the k likeliest; empty: all");
    const seed = field(make, "generate-seed", "Seed",
      numberInput({ step: 1, placeholder: "random" }), "same seed, same text");
    const conditions = model.info.conditions || model.info.condition_classes || model.info.classes || [];
    const condition = conditioned
      ? field(make, "generate-condition", "Condition", {
        tag: "select", attrs: {}, children: conditions.map((c) => el("option", { value: c, text: c })),
      })
      : null;
    const run = make("generate-run", "button", { type: "button", class: "primary", text: "Generate" });
    const stop = make("generate-stop", "button", { type: "button", text: "Stop", disabled: true });
    const primeOut = el("span", { class: "prime" });
    const streamed = el("span", { class: "streamed" });
    const output = make("generate-output", "pre", { class: "output", "aria-live": "polite" }, primeOut, streamed);
    const done = make("generate-done", "p", { class: "done", hidden: true });
    panel.append(el("div", { class: "controls" }, prime && prime.wrapper, length.wrapper, temperature.wrapper,
      topK.wrapper, seed.wrapper, condition && condition.wrapper),
    el("div", { class: "actions" }, run, stop), error, output, done);

    let stream = null;
    function finish(summary) {
      if (stream) stream.close();
      stream = null;
      run.disabled = false;
      stop.disabled = true;
      panel.removeAttribute("aria-busy");
      if (summary) {
        done.textContent = `stopped: ${summary.stopped} — ${STOP_REASONS[summary.stopped] || ""} (${summary.tokens} tokens)`;
        done.hidden = false;
      }
    }
    run.addEventListener("click", () => {
      setError(panel, "");
      panel.querySelectorAll("[aria-invalid]").forEach((n) => n.removeAttribute("aria-invalid"));
      let params;
      try {
        params = new URLSearchParams({
          prime: prime ? readText(prime.control, "the prime", { allowEmpty: true }) : "",
          length: readNumber(length.control, "length", { lo: 1, hi: LIMITS.maxGenerateTokens, integer: true }),
          temperature: readNumber(temperature.control, "temperature", { lo: 0, hi: LIMITS.maxTemperature }),
        });
        const k = readNumber(topK.control, "top-k", { lo: 1, integer: true, optional: true });
        const s = readNumber(seed.control, "seed", { lo: 0, integer: true, optional: true });
        if (k !== null) params.set("top_k", k);
        if (s !== null) params.set("seed", s);
        if (condition) {
          if (!condition.control.value) throw new InputError(condition.control, "choose a condition");
          params.set("condition", condition.control.value);
        }
      } catch (err) {
        if (err.control) err.control.setAttribute("aria-invalid", "true");
        setError(panel, err.message);
        return;
      }
      primeOut.textContent = params.get("prime");
      streamed.textContent = "";
      done.hidden = true;
      run.disabled = true;
      stop.disabled = false;
      panel.setAttribute("aria-busy", "true");
      const url = `/api/models/${encodeURIComponent(model.id)}/generate/stream?${params}`;
      stream = openStream(url, {
        token: (piece) => streamed.append(piece),
        done: (summary) => finish(summary),
        fail: (message) => { setError(panel, message); finish(null); },
      });
    });
    stop.addEventListener("click", () => finish({ stopped: "user", tokens: stream ? stream.count() : 0 }));
    return panel;
  }

  /**
   * Stream generated text by server-sent events. A 4xx before the stream starts closes the
   * EventSource without a body, so the same URL is fetched once more to read the server's detail.
   */
  function openStream(url, on) {
    const source = new EventSource(url);
    let count = 0;
    let over = false;
    source.addEventListener("token", (event) => {
      count += 1;
      on.token(JSON.parse(event.data).text);
    });
    source.addEventListener("done", (event) => {
      over = true;
      source.close();
      on.done(JSON.parse(event.data));
    });
    source.addEventListener("error", (event) => {
      source.close();
      if (over) return;
      over = true;
      if (event.data) {
        on.fail(formatDetail(JSON.parse(event.data).detail));
        return;
      }
      explainStreamFailure(url, count).then(on.fail);
    });
    return { close: () => { over = true; source.close(); }, count: () => count };
  }

  async function explainStreamFailure(url, count) {
    const abort = new AbortController();
    try {
      const response = await fetch(url, { signal: abort.signal });
      if (!response.ok) return readDetail(response);
      abort.abort();
    } catch (_) { /* unreachable server: the message below says so */ }
    return count
      ? `the stream broke off after ${count} tokens; the server may have stopped`
      : "could not open the stream; is `rnnkit serve` still running?";
  }

  function buildClassify(model, make) {
    const { panel, error } = panelShell(make, "classify");
    const text = field(make, "classify-text", "Text to classify",
      textArea(3, "a sentence or a message", "a really good story with great acting"));
    const run = make("classify-run", "button", { type: "button", class: "primary", text: "Classify" });
    const label = make("classify-label", "p", { class: "result", "aria-live": "polite" });
    const bars = make("classify-bars", "div", { class: "bars", role: "list" });
    panel.append(el("div", { class: "controls" }, text.wrapper), el("div", { class: "actions" }, run),
      error, label, bars);
    run.addEventListener("click", () => guarded(panel, run, async () => {
      const body = { text: readText(text.control, "the text") };
      const result = await postJSON(`/api/models/${encodeURIComponent(model.id)}/classify`, body);
      renderBars(bars, result.classes, result.probabilities, result.label);
      label.textContent = `label: ${result.label}`;
    }));
    return panel;
  }

  function renderBars(host, classes, probabilities, chosen) {
    host.replaceChildren(...classes.map((name, i) => {
      const p = probabilities[i];
      const predicted = name === chosen;
      return el("div", {
        class: predicted ? "bar-row predicted" : "bar-row", role: "listitem", "data-testid": "classify-bar",
        dataset: { class: name, probability: String(p) },
      }, el("span", { class: "bar-label", text: predicted ? `${name} ◀` : name }),
      el("span", { class: "bar-track" }, el("span", {
        class: "bar-fill", style: `width: ${(clamp(p, 0, 1) * 100).toFixed(2)}%`,
      })), el("span", { class: "bar-value", text: `${(p * 100).toFixed(1)}%` }));
    }));
  }

  function entityTypes(model, entities) {
    const fromTags = (model.info.entity_types || model.info.tags || []).filter((t) => t !== "O").map((t) => t.replace(/^[BIES]-/, ""));
    return [...new Set([...fromTags, ...entities.map((e) => e.type)])].sort();
  }

  function buildTag(model, make) {
    const { panel, error } = panelShell(make, "tag");
    const text = field(make, "tag-text", "Text to tag",
      textArea(3, "a sentence", "John Smith flew from Paris to Berlin on Monday ."));
    const run = make("tag-run", "button", { type: "button", class: "primary", text: "Tag" });
    const output = make("tag-output", "p", { class: "tokens", "aria-live": "polite" });
    const legend = make("tag-legend", "ul", { class: "legend", "aria-label": "entity types" });
    panel.append(el("div", { class: "controls" }, text.wrapper), el("div", { class: "actions" }, run),
      error, output, legend);
    run.addEventListener("click", () => guarded(panel, run, async () => {
      const body = { text: readText(text.control, "the text") };
      const result = await postJSON(`/api/models/${encodeURIComponent(model.id)}/tag`, body);
      const types = entityTypes(model, result.entities);
      const colour = (type) => ENTITY_COLOURS[types.indexOf(type) % ENTITY_COLOURS.length];
      const starts = new Map(result.entities.map((e) => [e.start, e]));
      const parts = [];
      for (let i = 0; i < result.tokens.length;) {
        const entity = starts.get(i);
        if (entity && entity.end > i) {
          parts.push(el("mark", { class: "entity", style: `background: ${colour(entity.type)}`,
            dataset: { type: entity.type }, title: entity.type },
          result.tokens.slice(i, entity.end).join(" "), el("span", { class: "entity-type", text: entity.type })), " ");
          i = entity.end;
        } else {
          parts.push(el("span", { class: "token", title: result.tags[i], text: result.tokens[i] }), " ");
          i += 1;
        }
      }
      output.replaceChildren(...parts);
      legend.replaceChildren(...types.map((type) => el("li", {},
        el("span", { class: "swatch", style: `background: ${colour(type)}` }), type)));
    }));
    return panel;
  }

  function buildTranslate(model, make) {
    const { panel, error } = panelShell(make, "translate");
    const from = model.info.source_language || model.info.source || "source";
    const text = field(make, "translate-text", `Text (${from})`, textArea(2, "a sentence", ""));
    const beam = field(make, "translate-beam", "Beam width",
      numberInput({ min: 1, max: LIMITS.maxBeam, step: 1, value: 5 }), "1 is greedy decoding");
    const run = make("translate-run", "button", { type: "button", class: "primary", text: "Translate" });
    const output = make("translate-output", "p", { class: "result", "aria-live": "polite" });
    const score = make("translate-score", "p", { class: "hint" });
    const canvas = make("translate-attention", "canvas", { role: "img", "aria-label": "attention weights" });
    const legend = el("canvas", { role: "img", hidden: true });
    const note = el("p", { class: "hint", "aria-live": "polite" });
    panel.append(el("div", { class: "controls" }, text.wrapper, beam.wrapper),
      el("div", { class: "actions" }, run), error, output, score,
      el("div", { class: "figure" }, canvas), legend, note);
    run.addEventListener("click", () => guarded(panel, run, async () => {
      const body = {
        text: readText(text.control, "the text"),
        beam: readNumber(beam.control, "beam width", { lo: 1, hi: LIMITS.maxBeam, integer: true }),
      };
      const result = await postJSON(`/api/models/${encodeURIComponent(model.id)}/translate`, body);
      output.textContent = result.text;
      score.textContent = `log-probability score ${formatValue(result.score)}`;
      if (!result.attention) {
        canvas.hidden = true;
        legend.hidden = true;
        note.textContent = "This model has no attention, so there is no alignment to show.";
        return;
      }
      const rows = result.attention.length;
      const labels = result.tokens.concat(["<eos>"]).slice(0, rows);
      const scale = { kind: "sequential", min: 0, max: 1 };
      canvas.hidden = false;
      legend.hidden = false;
      note.textContent = "Rows: output tokens; columns: source tokens; darker = more attention.";
      drawLegend(legend, scale, "attention weight");
      drawHeatmap(canvas, result.attention, {
        rowLabels: labels, colLabels: result.source_tokens, scale, maxHeight: 40 * rows, maxCell: 48,
        describe: (r, c) => `${labels[r]} ← ${result.source_tokens[c]}: ${formatValue(result.attention[r][c])}`,
      });
    }));
    attachReadout(canvas, note);
    return panel;
  }

  function buildCaption(model, make) {
    const { panel, error } = panelShell(make, "caption");
    const file = field(make, "caption-file", "Image",
      { tag: "input", attrs: { type: "file", accept: IMAGE_TYPES.join(",") } },
      `JPEG, PNG, WebP, BMP or GIF, at most ${(LIMITS.maxUploadBytes / 1e6).toFixed(0)} MB`);
    const beam = field(make, "caption-beam", "Beam width",
      numberInput({ min: 1, max: LIMITS.maxBeam, step: 1, value: 3 }));
    const run = make("caption-run", "button", { type: "button", class: "primary", text: "Caption" });
    const preview = make("caption-preview", "img", { class: "preview", alt: "the chosen image", hidden: true });
    const output = make("caption-output", "p", { class: "result", "aria-live": "polite" });
    panel.append(el("div", { class: "controls" }, file.wrapper, beam.wrapper),
      el("div", { class: "actions" }, run), error, preview, output);
    function chosenImage() {
      const image = file.control.files[0];
      if (!image) throw new InputError(file.control, "choose an image file first");
      if (!IMAGE_TYPES.includes(image.type)) {
        throw new InputError(file.control, `${image.name} is ${image.type || "of unknown type"}; use ${IMAGE_TYPES.join(", ")}`);
      }
      if (image.size > LIMITS.maxUploadBytes) {
        throw new InputError(file.control, `${image.name} has ${image.size} bytes; the limit is ${LIMITS.maxUploadBytes}`);
      }
      return image;
    }
    preview.addEventListener("error", () => { preview.hidden = true; });
    file.control.addEventListener("change", () => guarded(panel, null, async () => {
      if (preview.src) URL.revokeObjectURL(preview.src);
      preview.hidden = true;
      output.textContent = "";
      preview.src = URL.createObjectURL(chosenImage());
      preview.hidden = false;
    }));
    run.addEventListener("click", () => guarded(panel, run, async () => {
      const form = new FormData();
      form.append("image", chosenImage());
      form.append("beam", readNumber(beam.control, "beam width", { lo: 1, hi: LIMITS.maxBeam, integer: true }));
      const result = await api(`/api/models/${encodeURIComponent(model.id)}/caption`, { method: "POST", body: form });
      output.textContent = result.caption;
    }));
    return panel;
  }

  function buildForecast(model, make) {
    const { panel, error } = panelShell(make, "forecast");
    const horizon = field(make, "forecast-horizon", "Horizon (steps)",
      numberInput({ min: 1, max: LIMITS.maxHorizon, step: 1, value: 24 }));
    const history = field(make, "forecast-history", "History (optional)",
      textArea(2, "numbers separated by commas or spaces", ""),
      `empty: the run's own series${model.info.series ? ` (${model.info.series})` : ""}`);
    const run = make("forecast-run", "button", { type: "button", class: "primary", text: "Forecast" });
    const caption = el("p", { class: "hint", "aria-live": "polite" });
    const canvas = make("forecast-plot", "canvas", { role: "img", "aria-label": "history and forecast" });
    panel.append(el("div", { class: "controls" }, horizon.wrapper, history.wrapper),
      el("div", { class: "actions" }, run), error, el("div", { class: "figure" }, canvas), caption);
    run.addEventListener("click", () => guarded(panel, run, async () => {
      const body = {
        horizon: readNumber(horizon.control, "horizon", { lo: 1, hi: LIMITS.maxHorizon, integer: true }),
        history: readSeries(history.control),
      };
      const result = await postJSON(`/api/models/${encodeURIComponent(model.id)}/forecast`, body);
      const joined = result.history.length ? [result.history[result.history.length - 1]] : [];
      drawLines(canvas, [
        { values: result.history, start: 0, colour: "#3a6ea5", label: "history" },
        { values: joined.concat(result.forecast), start: Math.max(0, result.history.length - 1), colour: "#d9480f", label: "forecast" },
      ], { height: 280 });
      caption.textContent = `${result.series}: ${result.history.length} observed steps, ${result.forecast.length} forecast.`;
    }));
    return panel;
  }

  function mapScale(name, values) {
    if (name.endsWith("_gate")) return { kind: "sequential", min: 0, max: 1, caption: "σ: 0 … 1" };
    if (name === "cell") {
      const bound = values.flat().reduce((m, v) => (Number.isFinite(v) ? Math.max(m, Math.abs(v)) : m), 1);
      return { kind: "diverging", min: -bound, max: bound, caption: "c_t is unbounded" };
    }
    return { kind: "diverging", min: -1, max: 1, caption: "tanh: −1 … 1" };
  }

  function buildInspect(model, make) {
    const { panel, error } = panelShell(make, "inspect");
    const text = field(make, "inspect-text", "Text to read",
      textArea(2, "the model reads this text token by token", "The quick brown fox jumps.",
        LIMITS.maxInspectChars));
    const units = field(make, "inspect-units", "Units",
      numberInput({ min: 1, max: LIMITS.maxInspectUnits, step: 1, value: 32 }), "the first units of each layer");
    const run = make("inspect-run", "button", { type: "button", class: "primary", text: "Read the text" });
    const layer = field(make, "inspect-layer", "Layer", { tag: "select", attrs: {} });
    const map = field(make, "inspect-map", "Map", { tag: "select", attrs: {} });
    const from = field(make, "inspect-from", "From unit", numberInput({ min: 0, step: 1, value: 0 }));
    const to = field(make, "inspect-to", "To unit", numberInput({ min: 0, step: 1, value: 31 }));
    const single = field(make, "inspect-single", "One unit as a line",
      { tag: "input", attrs: { type: "checkbox" } });
    const unit = field(make, "inspect-unit", "Unit", numberInput({ min: 0, step: 1, value: 0 }));
    const heatmap = make("inspect-heatmap", "canvas", { role: "img", "aria-label": "activations: rows units, columns tokens" });
    const line = make("inspect-line", "canvas", { role: "img", "aria-label": "one unit over the tokens", hidden: true });
    const legend = make("inspect-legend", "canvas", { role: "img", "aria-label": "colour scale" });
    const readout = make("inspect-readout", "p", { class: "hint", "aria-live": "polite",
      text: "Hover over the map to read a value." });
    const probabilities = make("inspect-probabilities", "p", { class: "hint" });
    const view = el("div", { class: "controls view-controls", hidden: true },
      layer.wrapper, map.wrapper, from.wrapper, to.wrapper, single.wrapper, unit.wrapper);
    panel.append(el("div", { class: "controls" }, text.wrapper, units.wrapper),
      el("div", { class: "actions" }, run), error, probabilities, view,
      el("div", { class: "figure" }, heatmap, line), legend, readout);
    attachReadout(heatmap, readout);
    let result = null;

    function redraw() {
      guardedSync(panel, () => drawInspect(result, { layer, map, from, to, single, unit },
        { heatmap, line, legend }));
    }
    [layer, map, from, to, single, unit].forEach((f) => f.control.addEventListener("change", () => {
      if (f === layer) fillMapChoices(result, layer.control, map.control);
      redraw();
    }));
    run.addEventListener("click", () => guarded(panel, run, async () => {
      const body = {
        text: readText(text.control, "the text", { limit: LIMITS.maxInspectChars }),
        units: readNumber(units.control, "units", { lo: 1, hi: LIMITS.maxInspectUnits, integer: true }),
      };
      result = await postJSON(`/api/models/${encodeURIComponent(model.id)}/inspect`, body);
      layer.control.replaceChildren(...result.layers.map((entry, i) => el("option", {
        value: i, text: `layer ${entry.layer}${entry.direction ? " · backward" : ""}`,
      })));
      fillMapChoices(result, layer.control, map.control);
      const width = (result.layers[0].maps.hidden[0] || []).length;
      for (const f of [from, to, unit]) f.control.max = Math.max(0, width - 1);
      from.control.value = 0;
      to.control.value = Math.max(0, width - 1);
      unit.control.value = clamp(Number(unit.control.value) || 0, 0, Math.max(0, width - 1));
      view.hidden = false;
      probabilities.textContent = result.probabilities
        ? `class probabilities: ${(model.info.classes || result.probabilities.map((_, i) => i))
          .map((c, i) => `${c} ${(result.probabilities[i] * 100).toFixed(1)}%`).join(", ")}`
        : "";
      drawInspect(result, { layer, map, from, to, single, unit }, { heatmap, line, legend });
    }));
    return panel;
  }

  function guardedSync(panel, work) {
    setError(panel, "");
    panel.querySelectorAll("[aria-invalid]").forEach((node) => node.removeAttribute("aria-invalid"));
    try {
      work();
    } catch (err) {
      if (err.control) err.control.setAttribute("aria-invalid", "true");
      setError(panel, err.message);
    }
  }

  function fillMapChoices(result, layerSelect, mapSelect) {
    const entry = result.layers[Number(layerSelect.value) || 0];
    const previous = mapSelect.value;
    const names = Object.keys(entry.maps).filter((n) => entry.maps[n])
      .sort((a, b) => (MAP_ORDER.indexOf(a) + 1 || 99) - (MAP_ORDER.indexOf(b) + 1 || 99));
    const title = (n) => (n === "candidate" && result.cell === "gru" ? "candidate n_t"
      : n === "candidate" ? "candidate c̃_t" : MAP_TITLES[n] || n);
    mapSelect.replaceChildren(...names.map((n) => el("option", { value: n, text: title(n) })));
    mapSelect.value = names.includes(previous) ? previous : names[0];
  }

  function drawInspect(result, f, out) {
    const entry = result.layers[Number(f.layer.control.value) || 0];
    const name = f.map.control.value;
    const values = entry.maps[name]; // (T, U): rows tokens, columns units
    const width = values[0] ? values[0].length : 0;
    const scale = mapScale(name, values);
    drawLegend(out.legend, scale, scale.caption);
    const tokens = result.tokens;
    if (f.single.control.checked) {
      const u = readNumber(f.unit.control, "unit", { lo: 0, hi: width - 1, integer: true });
      out.heatmap.hidden = true;
      out.line.hidden = false;
      drawLines(out.line, [{ values: values.map((row) => row[u]), colour: "#3a6ea5", label: `unit ${u} · ${name}` }],
        { yRange: [scale.min, scale.max], xLabels: tokens.map(visibleToken), height: 240 });
      return;
    }
    const lo = readNumber(f.from.control, "from unit", { lo: 0, hi: width - 1, integer: true });
    const hi = readNumber(f.to.control, "to unit", { lo, hi: width - 1, integer: true });
    const grid = [];
    for (let u = lo; u <= hi; u += 1) grid.push(values.map((row) => row[u])); // (U, T)
    out.line.hidden = true;
    out.heatmap.hidden = false;
    drawHeatmap(out.heatmap, grid, {
      rowLabels: grid.map((_, i) => `u${lo + i}`), colLabels: tokens, scale, maxHeight: 360,
      describe: (r, c) => `unit ${lo + r} · token ${c} “${visibleToken(tokens[c])}” · ${name} = ${formatValue(grid[r][c])}`,
    });
  }

  function buildGradients(model, make) {
    const { panel, error } = panelShell(make, "gradients");
    const text = field(make, "gradients-text", "Text",
      textArea(2, "the loss is the next-token loss over this text",
        "It was the best of times, it was the worst of times."));
    const run = make("gradients-run", "button", { type: "button", class: "primary", text: "Measure" });
    const log = field(make, "gradients-log", "Log scale", { tag: "input", attrs: { type: "checkbox", checked: true } });
    const canvas = make("gradients-plot", "canvas", { role: "img", "aria-label": "gradient norm per step" });
    const caption = el("p", { class: "hint", text: "‖∂L/∂h_t‖ for each step t: how much the loss still reaches back to that step." });
    panel.append(el("div", { class: "controls" }, text.wrapper, log.wrapper),
      el("div", { class: "actions" }, run), error, el("div", { class: "figure" }, canvas), caption);
    let result = null;
    const draw = () => result && drawBars(canvas, result.norms, result.tokens, log.control.checked);
    log.control.addEventListener("change", draw);
    run.addEventListener("click", () => guarded(panel, run, async () => {
      const body = { text: readText(text.control, "the text") };
      result = await postJSON(`/api/models/${encodeURIComponent(model.id)}/gradients`, body);
      draw();
    }));
    return panel;
  }

  const BUILDERS = {
    generate: buildGenerate, classify: buildClassify, tag: buildTag, translate: buildTranslate,
    caption: buildCaption, forecast: buildForecast, inspect: buildInspect, gradients: buildGradients,
  };

  // ---------------------------------------------------------------- models and tabs

  function describeInfo(info) {
    const items = Object.entries(info || {}).map(([key, value]) => {
      let shown = Array.isArray(value) ? value.join(", ") : typeof value === "object" && value !== null
        ? JSON.stringify(value) : String(value);
      if (shown.length > 120) shown = `${shown.slice(0, 119)}…`;
      return [el("dt", { text: key.replace(/_/g, " ") }), el("dd", { text: shown })];
    });
    return items.flat();
  }

  function selectTab(tabs, chosen) {
    for (const { tab, panel } of tabs) {
      const on = tab === chosen;
      tab.setAttribute("aria-selected", String(on));
      tab.tabIndex = on ? 0 : -1;
      panel.hidden = !on;
    }
  }

  function buildModel(model, index) {
    const key = `m${index}`;
    const make = namer(key);
    const section = el("section", { class: "model", id: key, "data-testid": "model",
      "data-model-id": model.id, "aria-labelledby": `${key}-title` });
    section.append(el("h2", { id: `${key}-title`, text: model.id }),
      make("model-info", "dl", { class: "info" }, el("dt", { text: "task" }), el("dd", { text: model.task }),
        ...describeInfo(model.info)));
    const usable = model.capabilities.filter((c) => BUILDERS[c]);
    const tablist = el("div", { class: "tabs", role: "tablist", "aria-label": `${model.id} views` });
    const tabs = usable.map((capability) => {
      const panel = BUILDERS[capability](model, make);
      const tab = make(`tab-${capability}`, "button", { type: "button", role: "tab",
        "aria-controls": panel.id, text: TAB_TITLES[capability] || capability });
      panel.setAttribute("aria-labelledby", tab.id);
      return { tab, panel };
    });
    tabs.forEach(({ tab }, i) => {
      tab.addEventListener("click", () => selectTab(tabs, tab));
      tab.addEventListener("keydown", (event) => {
        const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
        if (!step) return;
        const next = tabs[(i + step + tabs.length) % tabs.length].tab;
        selectTab(tabs, next);
        next.focus();
      });
    });
    tablist.append(...tabs.map(({ tab }) => tab));
    section.append(tablist, ...tabs.map(({ panel }) => panel));
    if (tabs.length) selectTab(tabs, tabs[0].tab);
    else section.append(el("p", { class: "hint", text: "This page has no view for this model's capabilities." }));
    return section;
  }

  /** Take the limits in force from the OpenAPI schema; keep the defaults where it says nothing. */
  async function loadLimits() {
    try {
      const schemas = (await api("/openapi.json")).components.schemas;
      for (const [key, [model, property, keyword]] of Object.entries(SCHEMA_LIMITS)) {
        const schema = ((schemas[model] || {}).properties || {})[property] || {};
        const branch = (schema.anyOf || [schema]).find((b) => Number.isFinite(b[keyword]));
        if (branch) LIMITS[key] = branch[keyword];
      }
    } catch (_) { /* no schema: the defaults stand, and the server still checks every request */ }
  }

  async function start() {
    const status = document.getElementById("page-status");
    const host = document.getElementById("models");
    const nav = document.getElementById("model-nav");
    try {
      const [{ models }] = await Promise.all([api("/api/models"), loadLimits()]);
      host.replaceChildren(...models.map(buildModel));
      nav.replaceChildren(...models.map((model, i) => el("a", { href: `#m${i}`, text: model.id })));
      status.textContent = models.length
        ? `${models.length} model${models.length === 1 ? "" : "s"} loaded.`
        : "No models are served. Start the server with a run folder: rnnkit serve runs/<run>";
    } catch (err) {
      status.textContent = `Could not load the models: ${err.message}`;
      status.classList.add("error");
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
