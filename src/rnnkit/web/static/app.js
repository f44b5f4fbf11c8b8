/* rnnkit demo page: one section per served model, one tab per capability, plain DOM + <canvas>.
 *
 * The page reads GET /api/models and builds, for each model, the panels its `capabilities` name;
 * the API contract is the server's /openapi.json (docs at /docs). No framework, no build step, no
 * network access beyond this server (the API documentation at /docs is served from it too).
 *
 * Stable hooks for tests and scripts. Each model is a
 *   <section data-testid="model" data-model-id="<id>" id="m<index>">
 * and every element inside it carries data-testid="<name>" (unique within its section) and the
 * unique id "m<index>-<name>". Find an element with
 *   [data-model-id="<id>"] [data-testid="<name>"]
 * Page:      page-status (loading / load errors), models, model-nav
 * Per model: tab-<capability> (role=tab button), panel-<capability> (role=tabpanel),
 *            <capability>-error (role=alert; empty while all is well), model-info
 * generate:  generate-prime (not for condlm), generate-length, generate-temperature, generate-topk,
 *            generate-topp, generate-beam (a beam search arrives whole), generate-seed,
 *            generate-condition (condlm only), generate-run, generate-stop,
 *            generate-output (span.prime, then span.streamed growing token by token),
 *            generate-done ("stopped: <reason> … (<n> tokens)", shown once the stream ends)
 * classify:  classify-text, classify-run, classify-bars, classify-bar (one per class, with
 *            data-class and data-probability; class "predicted" on the chosen one), classify-label,
 *            classify-tokens (the tokens read), classify-notes (unknown share, a cut input)
 * tag:       tag-text, tag-run, tag-output (tokens; entities are <mark data-type>), tag-legend,
 *            tag-notes
 * translate: translate-text, translate-beam, translate-run, translate-output, translate-score,
 *            translate-source (source tokens), translate-notes, translate-attention (canvas)
 * caption:   caption-file, caption-beam, caption-run, caption-preview (img), caption-output
 * forecast:  forecast-horizon, forecast-history, forecast-run, forecast-plot (canvas)
 * compose:   compose-frames, compose-temperature, compose-seed, compose-run, compose-roll (canvas:
 *            the piano roll, pitch names on its axis; data-frames, data-notes, data-seed),
 *            compose-readout (the frame and key under the pointer), compose-summary,
 *            compose-download (a link to the MIDI file, hidden until a roll is drawn)
 * inspect:   inspect-text, inspect-units (per page), inspect-first (first unit), inspect-run,
 *            inspect-prev, inspect-next, inspect-page ("units a–b of H"), inspect-layer,
 *            inspect-map, inspect-from, inspect-to (absolute unit numbers), inspect-single,
 *            inspect-unit, inspect-heatmap (canvas), inspect-line (canvas), inspect-legend
 *            (canvas; data-min / data-max: the scale fitted to the map shown), inspect-readout,
 *            inspect-probabilities, inspect-notes
 * gradients: gradients-text, gradients-run, gradients-log, gradients-plot (canvas),
 *            gradients-notes (a classifier's class, a cut input)
 * curves:    curves-run, curves-loss (canvas), curves-metric (select), curves-plot (canvas),
 *            curves-summary, curves-note (every model has this tab: /api/models/{id}/curves)
 * Every text box <name> has <name>-cut, shown when typed or pasted text was cut to the limit.
 * Unknown tokens (not in the run's vocabulary) are <mark class="unknown" data-testid=
 * "unknown-token">. Compare (a section above the models): compare-capability, compare-a,
 * compare-b, compare-text, compare-length, compare-seed, compare-run, compare-error,
 * compare-output-a, compare-output-b.
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
    maxMusicFrames: 512,
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
    maxMusicFrames: ["ComposeRequest", "frames", "maximum"],
  };
  const IMAGE_TYPES = ["image/jpeg", "image/png", "image/webp", "image/bmp", "image/gif"];
  const TAB_TITLES = {
    generate: "Generate", classify: "Classify", tag: "Tag entities", translate: "Translate",
    caption: "Caption", forecast: "Forecast", inspect: "Inside the network",
    gradients: "Gradients through time", curves: "Training curves", compose: "Compose music",
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
    const cut = input.limit ? make(`${name}-cut`, "small", { class: "cut-note", role: "status", hidden: true }) : null;
    if (cut) watchLength(control, input.limit, cut);
    const wrapper = el("div", { class: "field" },
      el("label", { for: control.id, text: label }), control, hintNode, cut);
    return { wrapper, control };
  }

  /** Cut a text box to `limit` characters as it changes, and say so (no silent maxlength). */
  function watchLength(control, limit, note) {
    control.addEventListener("input", () => {
      const length = control.value.length;
      if (length > limit) {
        control.value = control.value.slice(0, limit);
        note.textContent = `Cut to the first ${limit} characters (the server's limit): `
          + `${length - limit} characters were left out.`;
        note.hidden = false;
      } else if (length < limit) {
        note.hidden = true;
      }
    });
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

  /** Spans of tokens, those the run never saw in training (read as <unk>) marked. */
  function tokenSpans(tokens, unknown) {
    return tokens.flatMap((token, i) => [unknown && unknown[i]
      ? el("mark", { class: "unknown", "data-testid": "unknown-token", text: token,
        title: "not in the run's vocabulary: read as <unk>" })
      : el("span", { class: "token", text: token }), " "]);
  }

  /** Notes under a result: the share of unknown tokens, and a text the run cut. */
  function resultNotes(result) {
    const notes = [];
    if (Array.isArray(result.unknown)) {
      const count = result.unknown.filter(Boolean).length;
      const share = Number.isFinite(result.unknown_share) ? result.unknown_share : count / Math.max(1, result.unknown.length);
      notes.push(count
        ? `${count} of ${result.unknown.length} tokens (${(share * 100).toFixed(0)}%) are unknown to this run (marked; read as <unk>).`
        : "Every token is in this run's vocabulary.");
    }
    if (result.truncated) {
      const cut = result.truncated;
      notes.push(`Cut at the run's length limit: it read only the ${cut.keep} ${cut.kept} of your ${cut.total} tokens.`);
    }
    return notes;
  }

  function showNotes(node, result) {
    const notes = resultNotes(result);
    node.replaceChildren(...notes.map((note) => el("span", { class: note.startsWith("Cut") ? "note cut" : "note", text: note })));
    node.hidden = !notes.length;
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
    const width = 380;
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
    canvas.dataset.min = String(scale.min);
    canvas.dataset.max = String(scale.max);
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
      legendX += 28 + ctx.measureText(s.label).width;
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

  function textArea(rows, placeholder, value, limit = LIMITS.maxTextChars) {
    return { tag: "textarea", attrs: { rows, placeholder, spellcheck: "false" },
      children: value ? [value] : [], limit };
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
    const topP = field(make, "generate-topp", "Top-p",
      numberInput({ min: 0, max: 1, step: 0.05, placeholder: "1" }),
      "sample among the fewest tokens holding mass p; empty: all");
    const beam = field(make, "generate-beam", "Beam",
      numberInput({ min: 1, max: LIMITS.maxBeam, step: 1, placeholder: "sample" }),
      "beam search of this width instead of sampling; the text arrives whole");
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
      topK.wrapper, topP.wrapper, beam.wrapper, seed.wrapper, condition && condition.wrapper),
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
        const p = readNumber(topP.control, "top-p", { lo: 0, hi: 1, optional: true });
        const b = readNumber(beam.control, "beam", { lo: 1, hi: LIMITS.maxBeam, integer: true, optional: true });
        const s = readNumber(seed.control, "seed", { lo: 0, integer: true, optional: true });
        if (p === 0) throw new InputError(topP.control, "top-p must be above 0 (1 keeps every token)");
        if (b !== null && (k !== null || p !== null)) {
          throw new InputError(beam.control, "a beam search samples nothing: clear top-k and top-p, or the beam");
        }
        if (k !== null) params.set("top_k", k);
        if (p !== null) params.set("top_p", p);
        if (b !== null) params.set("beam", b);
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
      done.textContent = "";
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
    const tokens = make("classify-tokens", "p", { class: "tokens", hidden: true });
    const notes = make("classify-notes", "p", { class: "notes", hidden: true });
    panel.append(el("div", { class: "controls" }, text.wrapper), el("div", { class: "actions" }, run),
      error, label, bars, tokens, notes);
    run.addEventListener("click", () => guarded(panel, run, async () => {
      const body = { text: readText(text.control, "the text") };
      const result = await postJSON(`/api/models/${encodeURIComponent(model.id)}/classify`, body);
      renderClassified({ label, bars, tokens, notes }, result);
    }));
    return panel;
  }

  function renderClassified(out, result) {
    renderBars(out.bars, result.classes, result.probabilities, result.label);
    out.label.textContent = `label: ${result.label}`;
    if (out.tokens) {
      out.tokens.replaceChildren(...(result.tokens ? tokenSpans(result.tokens, result.unknown) : []));
      out.tokens.hidden = !result.tokens;
    }
    showNotes(out.notes, result);
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
    const notes = make("tag-notes", "p", { class: "notes", hidden: true });
    panel.append(el("div", { class: "controls" }, text.wrapper), el("div", { class: "actions" }, run),
      error, output, legend, notes);
    run.addEventListener("click", () => guarded(panel, run, async () => {
      const body = { text: readText(text.control, "the text") };
      const result = await postJSON(`/api/models/${encodeURIComponent(model.id)}/tag`, body);
      renderTagged({ output, legend, notes }, model, result);
    }));
    return panel;
  }

  function renderTagged(out, model, result) {
    const types = entityTypes(model, result.entities);
    const colour = (type) => ENTITY_COLOURS[types.indexOf(type) % ENTITY_COLOURS.length];
    const starts = new Map(result.entities.map((e) => [e.start, e]));
    const unknown = result.unknown || [];
    const parts = [];
    for (let i = 0; i < result.tokens.length;) {
      const entity = starts.get(i);
      if (entity && entity.end > i) {
        const inside = tokenSpans(result.tokens.slice(i, entity.end), unknown.slice(i, entity.end));
        parts.push(el("mark", { class: "entity", style: `background: ${colour(entity.type)}`,
          dataset: { type: entity.type }, title: entity.type },
        inside.slice(0, -1), el("span", { class: "entity-type", text: entity.type })), " ");
        i = entity.end;
      } else {
        const [span] = tokenSpans([result.tokens[i]], [unknown[i]]);
        span.title = `${result.tags[i]}${unknown[i] ? " · unknown to the run" : ""}`;
        parts.push(span, " ");
        i += 1;
      }
    }
    out.output.replaceChildren(...parts);
    if (out.legend) {
      out.legend.replaceChildren(...types.map((type) => el("li", {},
        el("span", { class: "swatch", style: `background: ${colour(type)}` }), type)));
    }
    showNotes(out.notes, result);
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
    const source = make("translate-source", "p", { class: "tokens", hidden: true });
    const notes = make("translate-notes", "p", { class: "notes", hidden: true });
    const canvas = make("translate-attention", "canvas", { role: "img", "aria-label": "attention weights" });
    const legend = el("canvas", { role: "img", hidden: true });
    const note = el("p", { class: "hint", "aria-live": "polite" });
    panel.append(el("div", { class: "controls" }, text.wrapper, beam.wrapper),
      el("div", { class: "actions" }, run), error, output, score, source, notes,
      el("div", { class: "figure" }, canvas), legend, note);
    run.addEventListener("click", () => guarded(panel, run, async () => {
      const body = {
        text: readText(text.control, "the text"),
        beam: readNumber(beam.control, "beam width", { lo: 1, hi: LIMITS.maxBeam, integer: true }),
      };
      const result = await postJSON(`/api/models/${encodeURIComponent(model.id)}/translate`, body);
      output.textContent = result.text;
      score.textContent = `log-probability score ${formatValue(result.score)}`;
      source.replaceChildren(el("span", { class: "hint", text: "source read: " }),
        ...tokenSpans(result.source_tokens, result.unknown));
      source.hidden = false;
      showNotes(notes, result);
      if (!result.attention) {
        canvas.hidden = true;
        legend.hidden = true;
        note.textContent = "This model has no attention, so there is no alignment to show.";
        return;
      }
      const rows = result.attention.length;
      const labels = result.tokens.concat(["<eos>"]).slice(0, rows);
      const scale = fittedScale(result.attention, false);
      canvas.hidden = false;
      legend.hidden = false;
      note.textContent = "Rows: output tokens; columns: source tokens; darker = more attention.";
      drawLegend(legend, scale, "attention α, this map's range");
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
      textArea(2, "numbers separated by commas or spaces", "", null),
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

  const BLACK_KEYS = new Set([1, 3, 6, 8, 10]); // pitch classes C♯ D♯ F♯ G♯ A♯

  /**
   * The keys a roll plays, and two on each side, with at least an octave shown (around C4 when
   * the roll is silent): [lo, hi] as key indices p of roll[t][p].
   */
  function playedRange(roll, keys) {
    let lo = keys;
    let hi = -1;
    for (const frame of roll) {
      frame.forEach((on, p) => { if (on) { lo = Math.min(lo, p); hi = Math.max(hi, p); } });
    }
    if (hi < 0) [lo, hi] = [39, 39]; // C4, MIDI 60
    lo = Math.max(0, lo - 2);
    hi = Math.min(keys - 1, Math.max(hi + 2, lo + 11));
    return [lo, hi];
  }

  /** Runs of on-frames of key p: [first frame, frames held], one MIDI note each. */
  function noteRuns(roll, p) {
    const runs = [];
    let start = -1;
    for (let t = 0; t <= roll.length; t += 1) {
      const on = t < roll.length && roll[t][p] === 1;
      if (on && start < 0) start = t;
      if (!on && start >= 0) { runs.push([start, t - start]); start = -1; }
    }
    return runs;
  }

  /**
   * A piano roll (ComposeResponse): time left to right, one row per key (high keys on top, black
   * keys' rows shaded), a bar for each note, bar lines every 4 quarter notes, key names on the
   * left (every C, or every key when the rows are tall enough), bar numbers below.
   */
  function drawPianoRoll(canvas, result) {
    const { roll, pitches } = result;
    const frames = roll.length;
    const [lo, hi] = playedRange(roll, pitches.length);
    const rows = hi - lo + 1;
    const midiOf = (p) => result.lowest_pitch + p;
    measure.font = FONT;
    const left = Math.ceil(Math.max(...pitches.slice(lo, hi + 1).map((n) => measure.measureText(n).width))) + 10;
    const top = 8;
    const cellW = clamp((availableWidth(canvas) - left - 10) / Math.max(frames, 1), 3, 24);
    const cellH = clamp(380 / rows, 5, 14);
    const width = Math.ceil(left + frames * cellW + 10);
    const height = Math.ceil(top + rows * cellH + 22);
    const ctx = prepareCanvas(canvas, width, height);
    const yOf = (p) => top + (hi - p) * cellH; // the top of key p's row
    for (let p = lo; p <= hi; p += 1) {
      if (BLACK_KEYS.has(midiOf(p) % 12)) {
        ctx.fillStyle = "#f0f2f5";
        ctx.fillRect(left, yOf(p), frames * cellW, cellH);
      }
      if (midiOf(p) % 12 === 0) { // a line under each C
        ctx.fillStyle = "#c8ced6";
        ctx.fillRect(left, yOf(p) + cellH - 1, frames * cellW, 1);
      }
    }
    const perBar = Math.max(1, Math.round(4 / (result.step_quarters || 1))); // frames in 4/4
    ctx.fillStyle = "#d5d9df";
    for (let t = 0; t <= frames; t += perBar) ctx.fillRect(Math.round(left + t * cellW), top, 1, rows * cellH);
    let notes = 0;
    ctx.fillStyle = "#3a6ea5";
    ctx.strokeStyle = "#1d3f66";
    for (let p = lo; p <= hi; p += 1) {
      for (const [start, held] of noteRuns(roll, p)) {
        notes += 1;
        const x = left + start * cellW + 0.5;
        const y = yOf(p) + 0.5;
        ctx.fillRect(x, y, held * cellW - 1, cellH - 1);
        ctx.strokeRect(x, y, held * cellW - 1, cellH - 1);
      }
    }
    ctx.strokeStyle = "#555555";
    ctx.strokeRect(left + 0.5, top + 0.5, frames * cellW, rows * cellH);
    ctx.fillStyle = "#222222";
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    for (let p = lo; p <= hi; p += 1) {
      if (cellH >= 11 || midiOf(p) % 12 === 0) ctx.fillText(pitches[p], left - 4, yOf(p) + cellH / 2);
    }
    ctx.textAlign = "left";
    ctx.textBaseline = "top";
    const barStep = Math.ceil(24 / (perBar * cellW));
    for (let bar = 0; bar * perBar < frames; bar += barStep) {
      ctx.fillText(String(bar + 1), left + bar * perBar * cellW + 2, top + rows * cellH + 4);
    }
    canvas.dataset.drawn = "true";
    canvas.dataset.frames = String(frames);
    canvas.dataset.notes = String(notes);
    canvas.dataset.seed = String(result.seed);
    canvas.setAttribute("aria-label", `piano roll: ${notes} notes over ${frames} frames, `
      + `keys ${pitches[lo]} to ${pitches[hi]}`);
    canvas.heatmap = { left, top, cellW, cellH, rows, cols: frames,
      describe: (r, c) => `frame ${c} (bar ${Math.floor(c / perBar) + 1}) · ${pitches[hi - r]}`
        + ` (MIDI ${midiOf(hi - r)}) ${roll[c][hi - r] ? "sounds" : "is silent"}` };
  }

  /** The MIDI file of a ComposeResponse (base64) as a Blob a link can download. */
  function midiBlob(base64) {
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    return new Blob([bytes], { type: "audio/midi" });
  }

  function buildCompose(model, make) {
    const { panel, error } = panelShell(make, "compose");
    const frames = field(make, "compose-frames", "Length (frames)",
      numberInput({ min: 1, max: LIMITS.maxMusicFrames, step: 1, value: 64 }),
      `one frame is a ${model.info.frame || "quarter note"}; 64 quarter notes are 16 bars of 4/4`);
    const temperature = field(make, "compose-temperature", "Temperature τ",
      numberInput({ min: 0, max: LIMITS.maxTemperature, step: 0.1, value: 1 }),
      "each key sounds with probability σ(a/τ); 0: the keys the model thinks likelier than not");
    const seed = field(make, "compose-seed", "Seed",
      numberInput({ step: 1, placeholder: "random" }), "same seed, same piano roll");
    const run = make("compose-run", "button", { type: "button", class: "primary", text: "Compose" });
    const canvas = make("compose-roll", "canvas", { role: "img", "aria-label": "piano roll" });
    const readout = make("compose-readout", "p", { class: "hint", "aria-live": "polite" });
    const summary = make("compose-summary", "p", { class: "result", "aria-live": "polite" });
    const download = make("compose-download", "a", { class: "download", hidden: true });
    attachReadout(canvas, readout);
    panel.append(el("div", { class: "controls" }, frames.wrapper, temperature.wrapper, seed.wrapper),
      el("div", { class: "actions" }, run), error, summary, el("div", { class: "figure" }, canvas),
      readout, el("p", {}, download));
    let link = null;
    run.addEventListener("click", () => guarded(panel, run, async () => {
      const body = {
        frames: readNumber(frames.control, "length", { lo: 1, hi: LIMITS.maxMusicFrames, integer: true }),
        temperature: readNumber(temperature.control, "temperature", { lo: 0, hi: LIMITS.maxTemperature }),
      };
      const s = readNumber(seed.control, "seed", { lo: 0, hi: Number.MAX_SAFE_INTEGER, integer: true, optional: true });
      if (s !== null) body.seed = s;
      const result = await postJSON(`/api/models/${encodeURIComponent(model.id)}/compose`, body);
      drawPianoRoll(canvas, result);
      const bars = (result.frames * result.step_quarters) / 4;
      summary.textContent = `${result.notes} notes in ${result.frames} frames (${formatEnd(bars)} bars of 4/4), `
        + `τ = ${body.temperature}, seed ${result.seed}`;
      if (link) URL.revokeObjectURL(link);
      link = URL.createObjectURL(midiBlob(result.midi));
      download.href = link;
      download.download = `${model.id}-seed${result.seed}.mid`;
      download.textContent = `Download MIDI (${download.download})`;
      download.hidden = false;
      readout.textContent = "Point at the roll to read a frame and a key.";
    }));
    return panel;
  }

  /**
   * A colour scale fitted to the values of one map: a signed map diverges from white at 0 to
   * ±max |v| (symmetric, so the sign reads at a glance); an unsigned one runs from its own
   * min to its own max. A flat map gets a tiny range so that it still draws.
   */
  function fittedScale(grid, signed) {
    let lo = Infinity;
    let hi = -Infinity;
    for (const row of grid) {
      for (const v of row) {
        if (Number.isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
      }
    }
    if (lo > hi) [lo, hi] = [0, 1];
    if (signed) {
      const bound = Math.max(Math.abs(lo), Math.abs(hi)) || 1e-6;
      return { kind: "diverging", min: -bound, max: bound };
    }
    return { kind: "sequential", min: lo, max: hi > lo ? hi : lo + 1e-6 };
  }

  /** Gates (σ, in 0 … 1) fitted to their own range; h_t, c_t and candidates symmetric at 0. */
  function mapScale(name, grid) {
    if (name.endsWith("_gate")) return { ...fittedScale(grid, false), caption: "σ gate, this map's range" };
    return { ...fittedScale(grid, true), caption: "signed: 0 is white, ±this map's max" };
  }

  function buildInspect(model, make) {
    const { panel, error } = panelShell(make, "inspect");
    const text = field(make, "inspect-text", "Text to read",
      textArea(2, "the model reads this text token by token", "The quick brown fox jumps.",
        LIMITS.maxInspectChars));
    const units = field(make, "inspect-units", "Units per page",
      numberInput({ min: 1, max: LIMITS.maxInspectUnits, step: 1, value: Math.min(32, LIMITS.maxInspectUnits) }),
      `at most ${LIMITS.maxInspectUnits}`);
    const first = field(make, "inspect-first", "First unit", numberInput({ min: 0, step: 1, value: 0 }),
      "page through every unit");
    const run = make("inspect-run", "button", { type: "button", class: "primary", text: "Read the text" });
    const prev = make("inspect-prev", "button", { type: "button", text: "◀ Previous units", disabled: true });
    const next = make("inspect-next", "button", { type: "button", text: "Next units ▶", disabled: true });
    const pageNote = make("inspect-page", "span", { class: "hint page-note", "aria-live": "polite" });
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
    const notes = make("inspect-notes", "p", { class: "notes", hidden: true });
    const view = el("div", { class: "controls view-controls", hidden: true },
      layer.wrapper, map.wrapper, from.wrapper, to.wrapper, single.wrapper, unit.wrapper);
    panel.append(el("div", { class: "controls" }, text.wrapper, units.wrapper, first.wrapper),
      el("div", { class: "actions" }, run, prev, next, pageNote), error, probabilities, notes, view,
      el("div", { class: "figure" }, heatmap, line), legend, readout);
    attachReadout(heatmap, readout);
    const controls = { layer, map, from, to, single, unit };
    let result = null;

    function redraw() {
      guardedSync(panel, () => drawInspect(result, controls, { heatmap, line, legend }));
    }
    [layer, map, from, to, single, unit].forEach((f) => f.control.addEventListener("change", () => {
      if (f === layer) fillMapChoices(result, layer.control, map.control);
      redraw();
    }));

    async function read(start) {
      const body = {
        text: readText(text.control, "the text", { limit: LIMITS.maxInspectChars }),
        units: readNumber(units.control, "units", { lo: 1, hi: LIMITS.maxInspectUnits, integer: true }),
        first_unit: start === undefined ? readNumber(first.control, "first unit", { lo: 0, integer: true }) : start,
      };
      result = await postJSON(`/api/models/${encodeURIComponent(model.id)}/inspect`, body);
      const shown = (result.layers[0].maps.hidden[0] || []).length;
      const lo = result.first_unit;
      const hi = lo + Math.max(0, shown - 1);
      const total = result.hidden_size || shown;
      first.control.value = lo;
      pager = { atStart: lo === 0, atEnd: lo + shown >= total };
      pageNote.textContent = `units ${lo}–${hi} of ${total}`;
      layer.control.replaceChildren(...result.layers.map((entry, i) => el("option", {
        value: i, text: `layer ${entry.layer}${entry.direction ? " · backward" : ""}`,
      })));
      fillMapChoices(result, layer.control, map.control);
      for (const f of [from, to, unit]) { f.control.min = lo; f.control.max = hi; }
      from.control.value = lo;
      to.control.value = hi;
      unit.control.value = clamp(Number(unit.control.value) || 0, lo, hi);
      view.hidden = false;
      probabilities.textContent = result.probabilities
        ? `class probabilities: ${(model.info.classes || result.probabilities.map((_, i) => i))
          .map((c, i) => `${c} ${(result.probabilities[i] * 100).toFixed(1)}%`).join(", ")}`
        : "";
      showNotes(notes, result);
      drawInspect(result, controls, { heatmap, line, legend });
    }
    const perPage = () => readNumber(units.control, "units", { lo: 1, hi: LIMITS.maxInspectUnits, integer: true });
    let pager = { atStart: true, atEnd: true };
    const syncPager = () => { prev.disabled = pager.atStart; next.disabled = pager.atEnd; };
    run.addEventListener("click", () => guarded(panel, run, () => read()).then(syncPager));
    prev.addEventListener("click", () => guarded(panel, prev,
      () => read(Math.max(0, result.first_unit - perPage()))).then(syncPager));
    next.addEventListener("click", () => guarded(panel, next,
      () => read(result.first_unit + perPage())).then(syncPager));
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
    const values = entry.maps[name]; // (T, U): rows tokens, columns units first … first + U − 1
    const offset = result.first_unit || 0;
    const width = values[0] ? values[0].length : 0;
    const last = offset + width - 1;
    const tokens = result.tokens;
    if (f.single.control.checked) {
      const u = readNumber(f.unit.control, "unit", { lo: offset, hi: last, integer: true });
      const series = values.map((row) => row[u - offset]);
      const scale = mapScale(name, [series]);
      drawLegend(out.legend, scale, scale.caption);
      out.heatmap.hidden = true;
      out.line.hidden = false;
      drawLines(out.line, [{ values: series, colour: "#3a6ea5", label: `unit ${u} · ${name}` }],
        { yRange: [scale.min, scale.max], xLabels: tokens.map(visibleToken), height: 240 });
      return;
    }
    const lo = readNumber(f.from.control, "from unit", { lo: offset, hi: last, integer: true });
    const hi = readNumber(f.to.control, "to unit", { lo, hi: last, integer: true });
    const grid = [];
    for (let u = lo; u <= hi; u += 1) grid.push(values.map((row) => row[u - offset])); // (U, T)
    const scale = mapScale(name, grid);
    drawLegend(out.legend, scale, scale.caption);
    out.line.hidden = true;
    out.heatmap.hidden = false;
    drawHeatmap(out.heatmap, grid, {
      rowLabels: grid.map((_, i) => `u${lo + i}`), colLabels: tokens, scale, maxHeight: 360,
      describe: (r, c) => `unit ${lo + r} · token ${c} “${visibleToken(tokens[c])}” · ${name} = ${formatValue(grid[r][c])}`,
    });
  }

  function buildGradients(model, make) {
    const { panel, error } = panelShell(make, "gradients");
    const classifier = Boolean(model.capabilities.includes("classify"));
    const text = field(make, "gradients-text", "Text",
      classifier
        ? textArea(2, "the loss is −ln Pr(class decided | text)", "a really good story with great acting")
        : textArea(2, "the loss is the next-token loss over this text",
          "It was the best of times, it was the worst of times."));
    const run = make("gradients-run", "button", { type: "button", class: "primary", text: "Measure" });
    const log = field(make, "gradients-log", "Log scale", { tag: "input", attrs: { type: "checkbox", checked: true } });
    const canvas = make("gradients-plot", "canvas", { role: "img", "aria-label": "gradient norm per step" });
    const notes = make("gradients-notes", "p", { class: "notes", hidden: true });
    const caption = el("p", { class: "hint", text: classifier
      ? "‖∂L/∂h_t‖ for each token t, L = −ln Pr(ŷ | text) for the class ŷ decided: how much the decision still depends on that step."
      : "‖∂L/∂h_t‖ for each step t: how much the loss still reaches back to that step." });
    panel.append(el("div", { class: "controls" }, text.wrapper, log.wrapper),
      el("div", { class: "actions" }, run), error, notes, el("div", { class: "figure" }, canvas), caption);
    let result = null;
    const draw = () => result && drawBars(canvas, result.norms, result.tokens, log.control.checked);
    log.control.addEventListener("change", draw);
    run.addEventListener("click", () => guarded(panel, run, async () => {
      const body = { text: readText(text.control, "the text") };
      result = await postJSON(`/api/models/${encodeURIComponent(model.id)}/gradients`, body);
      showNotes(notes, result);
      if (result.label) {
        notes.prepend(el("span", { class: "note", text: `L = −ln Pr(${result.label} | text), the class decided.` }));
        notes.hidden = false;
      }
      draw();
    }));
    return panel;
  }

  const CURVE_COLOURS = { train: "#3a6ea5", eval: "#d9480f" };

  function buildCurves(model, make) {
    const { panel, error } = panelShell(make, "curves");
    const run = make("curves-run", "button", { type: "button", class: "primary", text: "Reload the curves" });
    const note = make("curves-note", "p", { class: "hint", "aria-live": "polite" });
    const loss = make("curves-loss", "canvas", { role: "img", "aria-label": "training and validation loss per step" });
    const metric = field(make, "curves-metric", "Curve", { tag: "select", attrs: {} });
    const log = field(make, "curves-log", "Log scale", { tag: "input", attrs: { type: "checkbox" } });
    const plot = make("curves-plot", "canvas", { role: "img", "aria-label": "the chosen curve per step" });
    const summary = make("curves-summary", "dl", { class: "info" });
    panel.append(el("div", { class: "actions" }, run), error, note, el("div", { class: "figure" }, loss),
      el("h4", { text: "Latest validation metrics" }), summary,
      el("div", { class: "controls" }, metric.wrapper, log.wrapper), el("div", { class: "figure" }, plot));
    let curves = [];
    const named = (kind, name) => curves.find((c) => c.kind === kind && c.name === name);

    function drawChosen() {
      const chosen = curves[Number(metric.control.value)];
      if (chosen) {
        drawXY(plot, [{ ...chosen, colour: CURVE_COLOURS[chosen.kind], label: `${chosen.name} (${chosen.kind})`,
          dots: chosen.kind === "eval" }], { logY: log.control.checked });
      }
    }
    async function load() {
      const body = await api(`/api/models/${encodeURIComponent(model.id)}/curves`);
      curves = body.curves;
      panel.dataset.loaded = "true";
      if (!curves.length) {
        note.textContent = "This run has logged no metrics yet.";
        return;
      }
      const series = [named("train", "loss"), named("eval", "val_loss")].filter(Boolean);
      drawXY(loss, series.map((c) => ({ ...c, colour: CURVE_COLOURS[c.kind], dots: c.kind === "eval",
        label: c.kind === "eval" ? "validation loss" : "training loss" })), { title: "loss" });
      const evals = curves.filter((c) => c.kind === "eval");
      summary.replaceChildren(...evals.flatMap((c) => [el("dt", { text: c.name.replace(/^val_/, "") }),
        el("dd", { text: `${formatValue(c.values[c.values.length - 1])} (step ${c.steps[c.steps.length - 1]})` })]));
      if (!evals.length) summary.replaceChildren(el("dd", { text: "no evaluation logged" }));
      const order = curves.map((c, i) => [c, i]).filter(([c]) => !(c.name === "loss" && c.kind === "train"));
      metric.control.replaceChildren(...order.map(([c, i]) => el("option", { value: i, text: `${c.name} (${c.kind})` })));
      const first = order.find(([c]) => c.kind === "eval" && c.name !== "val_loss") || order[0];
      if (first) metric.control.value = first[1];
      const thinned = curves.some((c) => c.values.length < c.total);
      note.textContent = `${curves.length} curves from metrics.jsonl${thinned ? " (long ones thinned evenly)" : ""}.`;
      drawChosen();
    }
    metric.control.addEventListener("change", drawChosen);
    log.control.addEventListener("change", drawChosen);
    run.addEventListener("click", () => guarded(panel, run, load));
    panel.loadOnce = () => { if (!panel.dataset.loaded) guarded(panel, run, load); };
    return panel;
  }

  /** Series [{steps, values, colour, label, dots}] against the training step; a legend on top. */
  function drawXY(canvas, series, opts) {
    const width = availableWidth(canvas);
    const height = opts.height || 260;
    const ctx = prepareCanvas(canvas, width, height);
    const box = { x: 62, y: 24, w: width - 80, h: height - 52 };
    const logY = Boolean(opts.logY);
    const shown = series.map((s) => ({ ...s, ys: s.values.map((v) => (logY ? Math.log10(Math.max(v, 1e-12)) : v)) }));
    const ys = shown.flatMap((s) => s.ys);
    const xs = shown.flatMap((s) => s.steps);
    let [lo, hi] = [Math.min(...ys), Math.max(...ys)];
    if (hi - lo < 1e-9) [lo, hi] = [lo - 1, hi + 1];
    const pad = logY ? 0 : (hi - lo) * 0.05;
    const yOf = drawAxes(ctx, box, lo - pad, hi + pad, false);
    const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
    const xOf = (step) => box.x + 6 + (x1 > x0 ? ((step - x0) / (x1 - x0)) * (box.w - 12) : box.w / 2 - 6);
    ctx.fillStyle = "#222222";
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    for (const tick of niceTicks(x0, x1, 6)) ctx.fillText(String(Math.round(tick)), xOf(tick), box.y + box.h + 4);
    ctx.fillText("step", box.x + box.w / 2, box.y + box.h + 16);
    for (const s of shown) {
      ctx.strokeStyle = s.colour;
      ctx.fillStyle = s.colour;
      ctx.lineWidth = s.dots ? 1.5 : 2;
      ctx.beginPath();
      s.ys.forEach((v, i) => (i ? ctx.lineTo(xOf(s.steps[i]), yOf(v)) : ctx.moveTo(xOf(s.steps[i]), yOf(v))));
      ctx.stroke();
      if (s.dots) s.ys.forEach((v, i) => { ctx.beginPath(); ctx.arc(xOf(s.steps[i]), yOf(v), 3.5, 0, 2 * Math.PI); ctx.fill(); });
    }
    ctx.lineWidth = 1;
    let legendX = box.x;
    ctx.textAlign = "left";
    ctx.textBaseline = "middle";
    for (const s of shown) {
      ctx.fillStyle = s.colour;
      ctx.fillRect(legendX, 8, 14, 4);
      ctx.fillStyle = "#222222";
      const label = logY ? `${s.label}, log10` : s.label;
      ctx.fillText(label, legendX + 18, 10);
      legendX += 28 + ctx.measureText(label).width;
    }
    canvas.dataset.drawn = "true";
    canvas.dataset.points = String(shown.reduce((n, s) => n + s.steps.length, 0));
  }

  const BUILDERS = {
    generate: buildGenerate, classify: buildClassify, tag: buildTag, translate: buildTranslate,
    caption: buildCaption, forecast: buildForecast, inspect: buildInspect, gradients: buildGradients,
    curves: buildCurves, compose: buildCompose,
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
      if (on && panel.loadOnce) panel.loadOnce();
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
    const usable = [...model.capabilities.filter((c) => BUILDERS[c] && c !== "curves"), "curves"];
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

  // ---------------------------------------------------------------- compare two runs

  const COMPARABLE = ["generate", "classify", "tag", "translate"];

  /** Which models each comparable capability has (condlm needs a condition: not compared). */
  function comparable(models) {
    const found = {};
    for (const capability of COMPARABLE) {
      const offering = models.filter((m) => m.capabilities.includes(capability)
        && !(capability === "generate" && m.task === "condlm"));
      if (offering.length >= 2) found[capability] = offering;
    }
    return found;
  }

  function buildCompare(models) {
    const choices = comparable(models);
    if (!Object.keys(choices).length) return null;
    const make = namer("cmp");
    const section = el("section", { class: "model compare", id: "compare", "data-testid": "compare",
      "aria-labelledby": "compare-title" });
    const capability = field(make, "compare-capability", "View", { tag: "select", attrs: {},
      children: Object.keys(choices).map((c) => el("option", { value: c, text: TAB_TITLES[c] })) });
    const a = field(make, "compare-a", "Run A", { tag: "select", attrs: {} });
    const b = field(make, "compare-b", "Run B", { tag: "select", attrs: {} });
    const text = field(make, "compare-text", "Same text for both", textArea(2, "a prime, a sentence …", ""));
    const length = field(make, "compare-length", "Length (tokens)",
      numberInput({ min: 1, max: LIMITS.maxGenerateTokens, step: 1, value: 80 }));
    const seed = field(make, "compare-seed", "Seed", numberInput({ min: 0, step: 1, value: 1 }), "the same for both");
    const beam = field(make, "compare-beam", "Beam width", numberInput({ min: 1, max: LIMITS.maxBeam, step: 1, value: 3 }));
    const run = make("compare-run", "button", { type: "button", class: "primary", text: "Run both" });
    const error = make("compare-error", "p", { class: "panel-error", role: "alert", hidden: true });
    const columns = ["a", "b"].map((side) => {
      const title = el("h3", { text: `Run ${side.toUpperCase()}` });
      const output = make(`compare-output-${side}`, "div", { class: "compare-output", "aria-live": "polite" });
      return { side, title, output, box: el("div", { class: "compare-column" }, title, output) };
    });
    section.append(el("h2", { id: "compare-title", text: "Compare two runs" }),
      el("p", { class: "hint", text: "The same input to two served runs, side by side." }),
      el("div", { class: "controls" }, capability.wrapper, a.wrapper, b.wrapper),
      el("div", { class: "controls" }, text.wrapper, length.wrapper, seed.wrapper, beam.wrapper),
      el("div", { class: "actions" }, run), error,
      el("div", { class: "compare-columns" }, ...columns.map((c) => c.box)));
    const defaults = { generate: "The ", classify: "a really good story with great acting",
      tag: "John Smith flew from Paris to Berlin on Monday .", translate: "" };

    function choose() {
      const offering = choices[capability.control.value];
      for (const [select, index] of [[a.control, 0], [b.control, 1]]) {
        select.replaceChildren(...offering.map((m) => el("option", { value: m.id, text: m.id })));
        select.value = offering[Math.min(index, offering.length - 1)].id;
      }
      const generating = capability.control.value === "generate";
      length.wrapper.hidden = !generating;
      seed.wrapper.hidden = !generating;
      beam.wrapper.hidden = capability.control.value !== "translate";
      if (!text.control.value || Object.values(defaults).includes(text.control.value)) {
        text.control.value = defaults[capability.control.value];
      }
    }
    capability.control.addEventListener("change", choose);
    choose();

    run.addEventListener("click", () => guarded(section, run, async () => {
      const kind = capability.control.value;
      const body = kind === "generate"
        ? { prime: readText(text.control, "the prime", { allowEmpty: true }),
          length: readNumber(length.control, "length", { lo: 1, hi: LIMITS.maxGenerateTokens, integer: true }),
          seed: readNumber(seed.control, "seed", { lo: 0, integer: true }), temperature: 0.8 }
        : { text: readText(text.control, "the text") };
      if (kind === "translate") body.beam = readNumber(beam.control, "beam width", { lo: 1, hi: LIMITS.maxBeam, integer: true });
      const ids = [a.control.value, b.control.value];
      const answers = await Promise.allSettled(ids.map((id) => postJSON(`/api/models/${encodeURIComponent(id)}/${kind}`, body)));
      answers.forEach((answer, i) => {
        const column = columns[i];
        const model = models.find((m) => m.id === ids[i]);
        column.title.textContent = `Run ${column.side.toUpperCase()}: ${ids[i]}`;
        column.output.dataset.model = ids[i];
        if (answer.status === "rejected") {
          column.output.replaceChildren(el("p", { class: "panel-error", text: `Error: ${answer.reason.message}` }));
          return;
        }
        renderComparison(column.output, kind, model, answer.value, body);
      });
    }));
    return section;
  }

  function renderComparison(host, kind, model, result, body) {
    const notes = el("p", { class: "notes", hidden: true });
    if (kind === "generate") {
      host.replaceChildren(el("pre", { class: "output" }, el("span", { class: "prime", text: body.prime }),
        el("span", { class: "streamed", text: result.text })),
      el("p", { class: "done", text: `stopped: ${result.stopped} (${result.tokens} tokens)` }));
    } else if (kind === "classify") {
      const out = { label: el("p", { class: "result" }), bars: el("div", { class: "bars", role: "list" }),
        tokens: el("p", { class: "tokens" }), notes };
      renderClassified(out, result);
      host.replaceChildren(out.label, out.bars, out.tokens, notes);
    } else if (kind === "tag") {
      const out = { output: el("p", { class: "tokens" }), legend: el("ul", { class: "legend" }), notes };
      renderTagged(out, model, result);
      host.replaceChildren(out.output, out.legend, notes);
    } else {
      showNotes(notes, result);
      host.replaceChildren(el("p", { class: "result", text: result.text }),
        el("p", { class: "hint", text: `log-probability score ${formatValue(result.score)}` }),
        el("p", { class: "tokens" }, el("span", { class: "hint", text: "source read: " }),
          ...tokenSpans(result.source_tokens, result.unknown)), notes);
    }
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
      const compare = buildCompare(models);
      host.replaceChildren(...(compare ? [compare] : []), ...models.map(buildModel));
      nav.replaceChildren(...(compare ? [el("a", { href: "#compare", text: "compare" })] : []),
        ...models.map((model, i) => el("a", { href: `#m${i}`, text: model.id })));
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
