// ganforge studio page: plain JavaScript and canvas, no library, no request outside this server.
// State lives in window.studio (also read by the browser tests).
"use strict";

const S = (window.studio = {
  init: null, status: null, records: [], frames: 0, lastFrame: null, snapshots: [],
  findings: [], changes: [], probability: true, dSince: null, heatDraws: 0, shownSnapshot: null,
  connection: "connecting", failures: 0, opened: 0,
});
const $ = (id) => document.getElementById(id);
const REAL = "#1b9e5a", FAKE = "#7b3fbf";

// ---------------------------------------------------------------- events from the server
const source = new EventSource("/events");
const on = (name, fn) => source.addEventListener(name, (e) => fn(JSON.parse(e.data)));

// The connection. EventSource reconnects by itself (the server asks for 1 s between tries), which rides out a
// brief hiccup; but once the studio process has stopped every try is refused, forever, while the page would
// go on saying "running". So: "reconnecting" from the first error, and after MAX_FAILURES tries in a row
// without a connection (or when the browser gives up itself) the stream is closed and the page says
// "disconnected" with its controls disabled.
const MAX_FAILURES = 5;
source.onopen = () => {
  if (S.opened++ > 0) restart();  // a reconnection: the server sends the whole state again, from init on
  S.failures = 0; S.connection = "open";
  $("connection").hidden = true;
};
source.onerror = () => {
  if (S.connection === "disconnected") return;
  S.failures += 1;
  if (source.readyState === EventSource.CLOSED || S.failures >= MAX_FAILURES) { source.close(); disconnected(); return; }
  S.connection = "reconnecting";
  const label = $("state-label"); label.textContent = "reconnecting"; label.className = "tag reconnecting";
};
function restart() {  // forget what the dropped stream delivered, so the replay does not count it twice
  S.records = []; S.findings = []; S.changes = []; S.snapshots = []; S.dSince = null;
  $("changes").textContent = ""; renderFindings(); scheduleCharts();
}
function disconnected() {
  S.connection = "disconnected";
  const label = $("state-label"); label.textContent = "disconnected"; label.className = "tag disconnected";
  $("speed").textContent = "";
  const box = $("connection");
  box.textContent = "disconnected — the studio process stopped; the page shows the run as it last was "
    + "(reload it once the studio runs again)";
  box.hidden = false;
  for (const el of document.querySelectorAll("header button, #settings button, #settings input, #settings select")) el.disabled = true;
}
on("init", (msg) => { S.init = msg; S.probability = msg.probability ?? true; setup(); });
on("record", (rec) => { S.records.push(rec); absorbRecord(rec); scheduleCharts(); });
function unpack(v) {  // {shape, f32: base64 little-endian float32} -> nested arrays
  if (!v || typeof v !== "object" || !("f32" in v)) return v;
  const bin = atob(v.f32), bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  const flat = Array.from(new Float32Array(bytes.buffer)), shape = v.shape;
  const build = (offset, dim) => {
    if (dim >= shape.length - 1) return flat.slice(offset, offset + (shape[dim] ?? flat.length));
    const stride = shape.slice(dim + 1).reduce((a, b) => a * b, 1), out = [];
    for (let i = 0; i < shape[dim]; i++) out.push(build(offset + i * stride, dim + 1));
    return out;
  };
  return build(0, 0);
}
on("frame", (frame) => { for (const k of ["fake", "heat", "arrows", "manifold"]) frame[k] = unpack(frame[k]); S.lastFrame = frame; S.frames += 1; if (frame.probability !== undefined) S.probability = frame.probability; scheduleFrame(); });
on("snapshot", (snap) => { S.snapshots.push(snap); S.snapshots.sort((a, b) => a.step - b.step); updateSlider(); });
on("status", (st) => { S.status = st; showStatus(); });
on("settings", (st) => { S.probability = !!st.probability; if (S.status) S.status.objective = st.objective; scheduleCharts(); });
on("reset", () => { S.records = []; S.findings = []; S.dSince = null; renderFindings(); scheduleCharts(); });

// ---------------------------------------------------------------- setup
function setup() {
  const init = S.init;
  $("run-name").textContent = init.run || "run";
  $("mode").textContent = init.mode === "live" ? "live training" : "following a run folder";
  for (const v of ["lowdim", "images", "series", "columns", "none"]) $(v + "-view").hidden = init.view !== v;
  const c = init.controls || {};
  const live = init.mode === "live";
  for (const id of ["play", "pause", "step", "finish"]) $(id).disabled = !live;
  $("d-step").disabled = $("g-step").disabled = !c.single_steps;
  $("settings").hidden = !live;
  const lr = $("lr-inputs");
  lr.textContent = "";
  for (const phase of init.phases || []) {
    const label = document.createElement("label");
    label.textContent = `lr ${phase} `;
    const input = document.createElement("input");
    input.type = "number"; input.step = "any"; input.min = "0"; input.id = "lr-" + phase; input.dataset.phase = phase;
    input.oninput = () => S.edited.add(input.id);
    label.appendChild(input);
    lr.appendChild(label);
  }
  const sel = $("objective");
  sel.textContent = "";
  // A run whose objective cannot change shows only its own (the table GAN's built-in wgan-gp), never the
  // list's first entry, which it does not use.
  const names = c.objective ? init.objectives || [] : [init.objective || "fixed by the model"];
  for (const name of names) {
    const o = document.createElement("option"); o.value = o.textContent = name; sel.appendChild(o);
  }
  sel.disabled = !c.objective; $("n-critic").disabled = !c.n_critic;
  if (init.objective) sel.value = init.objective;
  S.edited = new Set();  // ids of the settings the user changed since the last apply: only those are sent
  sel.onchange = () => S.edited.add("objective");
  $("n-critic").oninput = () => S.edited.add("n-critic");
  scheduleFrame(); scheduleCharts();
}

function showStatus() {
  const st = S.status;
  $("step-label").textContent = `step ${st.step}${st.steps ? " / " + st.steps : ""}`;
  const label = $("state-label");
  const state = st.finished ? "finished" : st.paused ? "paused" : st.mode === "attach" ? "following" : "running";
  label.textContent = state; label.className = "tag " + state;
  $("speed").textContent = st.steps_per_s ? `${st.steps_per_s} steps/s` : (st.note ? st.note : "");
  // Settings show the run's current values (a decaying lr moves) except those the user is editing.
  const edited = S.edited || new Set();
  for (const [phase, value] of Object.entries(st.lr || {})) {
    const el = $("lr-" + phase); if (el && !edited.has(el.id)) el.value = value;
  }
  if (st.objective && !edited.has("objective")) $("objective").value = st.objective;
  if (st.n_critic && !edited.has("n-critic")) $("n-critic").value = st.n_critic;
  if (st.finished && S.init && S.init.mode === "live") {  // a finished run takes no more commands: say so, not a silent 200
    for (const id of ["play", "pause", "step", "d-step", "g-step", "finish", "apply"]) $(id).disabled = true;
    $("settings").title = "training has finished";
  }
}

// ---------------------------------------------------------------- controls
async function control(command) {
  $("control-msg").textContent = "";
  try {
    const r = await fetch("/control", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(command) });
    const body = await r.json();
    if (!r.ok) $("control-msg").textContent = body.error || r.statusText;
    return r.ok;
  } catch (err) { $("control-msg").textContent = String(err); return false; }
}
$("play").onclick = () => control({ action: "play" });
$("pause").onclick = () => control({ action: "pause" });
$("step").onclick = () => control({ action: "step" });
$("d-step").onclick = () => control({ action: "d_step" });
$("g-step").onclick = () => control({ action: "g_step" });
$("finish").onclick = () => control({ action: "finish" });
$("apply").onclick = async () => {
  // Only the settings the user edited are sent: an untouched box may show a value the run has moved past.
  const cmd = { action: "set" }, edited = S.edited || new Set();
  const lr = {};
  for (const el of document.querySelectorAll("#lr-inputs input")) {
    if (!edited.has(el.id)) continue;
    const v = Number(el.value.trim());
    if (el.value.trim() === "" || !Number.isFinite(v)) {
      $("control-msg").textContent = `lr ${el.dataset.phase}: give a number (e.g. 0.0002); nothing was changed`;
      return;
    }
    lr[el.dataset.phase] = v;
  }
  if (Object.keys(lr).length) cmd.lr = lr;
  if (edited.has("objective") && !$("objective").disabled) cmd.objective = $("objective").value;
  if (edited.has("n-critic") && !$("n-critic").disabled) {
    const k = Number($("n-critic").value);
    if (!Number.isInteger(k)) {
      $("control-msg").textContent = `n_critic: '${$("n-critic").value}' is not a whole number; nothing was changed`;
      return;
    }
    cmd.n_critic = k;
  }
  if (Object.keys(cmd).length === 1) { $("control-msg").textContent = "nothing changed"; return; }
  if (await control(cmd)) S.edited = new Set();  // applied: the boxes follow the run again
};

// ---------------------------------------------------------------- records: findings and changes
function absorbRecord(rec) {
  for (const f of rec.findings || []) S.findings.push({ ...f, until: null });
  for (const r of rec.resolved || []) {
    const open = S.findings.find((f) => f.until === null && (f.kind === r.kind || r.kind.startsWith(f.kind + ":")));
    if (open) open.until = r.step;
  }
  if ((rec.findings || []).length || (rec.resolved || []).length) renderFindings();
  const studio = rec.studio;
  if (studio && studio.changes) {
    for (const c of studio.changes) {
      S.changes.push(c);
      if (c.what === "objective") {  // D's outputs change scale here: the D chart starts again from this step
        S.dSince = c.step;
        if (c.probability !== undefined) S.probability = !!c.probability;
      }
      const li = document.createElement("li");
      li.textContent = `step ${c.step}: ${c.what}${c.value !== undefined ? " = " + c.value : ""}`;
      $("changes").appendChild(li);
    }
  }
}

function renderFindings() {
  const box = $("findings");
  box.textContent = "";
  if (!S.findings.length) { const p = document.createElement("p"); p.className = "note"; p.textContent = "none yet"; box.appendChild(p); return; }
  for (const f of S.findings) {
    const div = document.createElement("div");
    div.className = "finding" + (f.until !== null ? " resolved" : "");
    const head = document.createElement("b");
    head.textContent = `step ${f.step} · ${f.kind}` + (f.until !== null ? ` (until step ${f.until})` : "");
    const msg = document.createElement("div"); msg.textContent = f.message;
    const rem = document.createElement("div"); rem.className = "remedy"; rem.textContent = "remedy: " + f.remedy;
    div.append(head, msg, rem);
    box.appendChild(div);
  }
}

// ---------------------------------------------------------------- charts
let chartsQueued = false;
function scheduleCharts() { if (!chartsQueued) { chartsQueued = true; setTimeout(() => { chartsQueued = false; drawCharts(); }, 200); } }

function value(r, key) {  // "eval.fid" reads the periodic evaluation's nested report
  if (key.startsWith("eval.")) return r.eval ? r.eval[key.slice(5)] : undefined;
  return r[key];
}
function series(key) {
  const pts = [];
  for (const r of S.records) { const v = value(r, key); if (typeof v === "number" && Number.isFinite(v)) pts.push([r.step, v]); }
  return pts;
}
function evalKeys() {  // the periodic evaluation's headline numbers (not sizes, spreads or floors)
  const keys = new Set();
  for (const r of S.records) for (const [k, v] of Object.entries(r.eval || {})) {
    if (typeof v === "number" && !/^n_|_std$|_floor|_real$|_matched$|_subset|_seconds$|^prdc_k$|^noise_floor/.test(k)) keys.add("eval." + k);
  }
  return [...keys];
}

function lineChart(canvas, lines, opts = {}) {
  const ctx = canvas.getContext("2d"), W = canvas.width, H = canvas.height, L = 44, R = 8, T = 8, B = 20;
  ctx.clearRect(0, 0, W, H);
  const all = lines.flatMap((l) => l.points);
  ctx.font = "11px system-ui"; ctx.fillStyle = "#5b6572";
  if (!all.length) { ctx.fillText("not logged yet", W / 2 - 36, H / 2); return; }
  let x0 = Math.min(...all.map((p) => p[0])), x1 = Math.max(...all.map((p) => p[0]));
  let y0 = opts.yMin ?? Math.min(...all.map((p) => p[1])), y1 = opts.yMax ?? Math.max(...all.map((p) => p[1]));
  if (x1 === x0) x1 = x0 + 1; if (y1 === y0) { y0 -= 0.5; y1 += 0.5; }
  const sx = (x) => L + ((x - x0) / (x1 - x0)) * (W - L - R), sy = (y) => H - B - ((y - y0) / (y1 - y0)) * (H - T - B);
  ctx.strokeStyle = "#d6dae0"; ctx.strokeRect(L, T, W - L - R, H - T - B);
  ctx.fillText(fmt(y1), 2, T + 8); ctx.fillText(fmt(y0), 2, H - B); ctx.fillText(String(x0), L, H - 5);
  ctx.fillText(String(x1), W - R - 40, H - 5);
  if (opts.ref !== undefined) { ctx.setLineDash([4, 3]); ctx.beginPath(); ctx.moveTo(L, sy(opts.ref)); ctx.lineTo(W - R, sy(opts.ref)); ctx.stroke(); ctx.setLineDash([]); }
  let lx = L + 6;
  for (const l of lines) {
    if (!l.points.length) continue;
    ctx.strokeStyle = l.color; ctx.lineWidth = 1.5; ctx.beginPath();
    l.points.forEach((p, i) => (i ? ctx.lineTo(sx(p[0]), sy(p[1])) : ctx.moveTo(sx(p[0]), sy(p[1]))));
    ctx.stroke(); ctx.lineWidth = 1;
    ctx.fillStyle = l.color;
    if (l.points.length === 1) {  // a line through one point draws nothing: show it as a dot
      ctx.beginPath(); ctx.arc(sx(l.points[0][0]), sy(l.points[0][1]), 3, 0, 2 * Math.PI); ctx.fill();
    }
    ctx.fillText(l.name, lx, T + 12); lx += ctx.measureText(l.name).width + 12;
  }
}
// Models that log no D(x), D(G(z)) (the table GAN logs only the critic's gap, "wasserstein"): once records
// arrive without them the chart says so, and draws the gap where there is one, instead of "not logged yet"
// for the whole run.
function drawDChart() {
  const prob = S.probability, since = S.dSince, title = $("d-title"), chart = $("d-chart");
  const after = (points) => (since === null ? points : points.filter((p) => p[0] > since));
  const logsScores = S.records.some((r) => "d_real" in r || "d_fake" in r);
  S.dChart = !S.records.length || logsScores ? "scores" : series("wasserstein").length ? "gap" : "none";
  chart.hidden = S.dChart === "none";
  if (S.dChart === "gap") {
    title.textContent = "critic gap E[D(x)] − E[D(G(z))] (Wasserstein estimate)";
    title.title = "this model logs the critic's gap only, not D(x) and D(G(z)) apart";
    lineChart(chart, [{ name: "D(x) − D(G(z))", color: REAL, points: series("wasserstein") }]);
    return;
  }
  if (S.dChart === "none") { title.textContent = "D(x), D(G(z)): not logged by this model"; title.title = ""; return; }
  title.title = "";
  title.textContent = (prob ? "D(x) and D(G(z)) as probabilities (0.5: cannot tell)" : "critic scores D(x), D(G(z))")
    + (since === null ? "" : ` since step ${since} (objective changed)`);
  lineChart(chart, [
    { name: "D(x)", color: REAL, points: after(series("d_real")) },
    { name: "D(G(z))", color: FAKE, points: after(series("d_fake")) },
  ], prob ? { yMin: 0, yMax: 1, ref: 0.5 } : {});
}
function fmt(v) { return Math.abs(v) >= 100 || Math.abs(v) < 0.01 && v !== 0 ? v.toExponential(1) : v.toFixed(2); }

const QUALITY_KEYS = ["modes/modes", "modes/high_quality", "fid", "kid", "diversity", "duplicates", "w1"];
function drawCharts() {
  lineChart($("loss-chart"), [
    { name: "loss D", color: "#c2410c", points: series("loss_d") },
    { name: "loss G", color: "#1d4ed8", points: series("loss_g") },
  ]);
  drawDChart();
  const present = [...evalKeys(), ...QUALITY_KEYS].filter((k) => series(k).length);
  const colors = ["#0f766e", "#b45309", "#9333ea", "#be123c"];
  const shown = present.slice(0, 4);  // the title names the series drawn, not more
  $("metric-title").textContent = shown.length ? "quality: " + shown.join(", ") : "quality (measured every few hundred steps)";
  lineChart($("metric-chart"), shown.map((k, i) => ({ name: k, color: colors[i], points: series(k) })));
}

// ---------------------------------------------------------------- the 1-D / 2-D field
let frameQueued = false;
function scheduleFrame() { if (!frameQueued) { frameQueued = true; requestAnimationFrame(() => { frameQueued = false; drawFrame(); }); } }

function drawFrame() {
  const init = S.init, f = S.lastFrame;
  if (!init || !f) return;
  if (init.view === "lowdim") drawField(init, f);
  else if (init.view === "series") drawSeries(init, f);
  else if (init.view === "columns") drawColumns(f);
}

function heatColor(t) {  // t in [0, 1]: 0 = looks generated (purple), 0.5 = undecided (white), 1 = looks real (green)
  const a = [123, 63, 191], m = [255, 255, 255], b = [27, 158, 90];
  const [c0, c1, u] = t < 0.5 ? [a, m, t * 2] : [m, b, (t - 0.5) * 2];
  return `rgb(${c0.map((c, i) => Math.round(c + (c1[i] - c) * u)).join(",")})`;
}

function drawField(init, f) {
  const cv = $("field"), ctx = cv.getContext("2d"), W = cv.width, H = cv.height;
  ctx.clearRect(0, 0, W, H);
  const bx = init.bounds[0], by = init.bounds[1] || [0, 1], two = init.bounds.length === 2;
  const sx = (x) => ((x - bx[0]) / (bx[1] - bx[0])) * W;
  const sy = (y) => H - ((y - by[0]) / (by[1] - by[0])) * H;
  const show = (id) => $(id).checked;
  let lo = 0, hi = 1;
  if (f.heat && !f.probability) { lo = Math.min(...f.heat); hi = Math.max(...f.heat); if (hi === lo) hi = lo + 1; }
  const norm = (v) => (f.probability ? v : (v - lo) / (hi - lo));
  $("heat-legend").textContent = f.probability ? "D(x): purple 0 (generated) · white 0.5 · green 1 (real)" : "critic score, low (purple) to high (green)";
  if (two) {
    if (f.heat && show("show-heat")) {
      const n = f.heat_size, cw = W / n, ch = H / n;
      for (let iy = 0; iy < n; iy++) for (let ix = 0; ix < n; ix++) {
        ctx.fillStyle = heatColor(norm(f.heat[iy * n + ix]));
        ctx.fillRect(ix * cw, H - (iy + 1) * ch, cw + 1, ch + 1);
      }
      S.heatDraws += 1;
    }
    if (f.manifold && show("show-manifold")) {
      ctx.strokeStyle = "rgba(60,60,60,0.35)";
      for (const line of f.manifold) { ctx.beginPath(); line.forEach((p, i) => (i ? ctx.lineTo(sx(p[0]), sy(p[1])) : ctx.moveTo(sx(p[0]), sy(p[1])))); ctx.stroke(); }
    }
    const dots = (pts, color) => { ctx.fillStyle = color; for (const p of pts) { ctx.beginPath(); ctx.arc(sx(p[0]), sy(p[1]), 2.6, 0, 6.283); ctx.fill(); } };
    if (show("show-real")) dots(init.real || [], REAL);
    if (show("show-fake")) dots(f.fake || [], FAKE);
    if (f.arrows && f.arrows.length && show("show-arrows")) {
      const len = Math.max(...f.arrows.map((a) => Math.hypot(sx(a[0] + a[2]) - sx(a[0]), sy(a[1] + a[3]) - sy(a[1])))) || 1;
      ctx.strokeStyle = "#111"; ctx.fillStyle = "#111";
      for (const a of f.arrows) {
        const x = sx(a[0]), y = sy(a[1]);
        let dx = sx(a[0] + a[2]) - x, dy = sy(a[1] + a[3]) - y;
        const k = 28 / len; dx *= k; dy *= k;
        arrow(ctx, x, y, x + dx, y + dy);
      }
    }
  } else {  // 1-D: histograms, D(x) curve, gradient arrows on the axis, z -> G(z) lines
    const bins = 50, hist = (pts) => { const h = new Array(bins).fill(0); for (const p of pts) { const i = Math.floor(((p[0] - bx[0]) / (bx[1] - bx[0])) * bins); if (i >= 0 && i < bins) h[i] += 1; } const m = pts.length || 1; return h.map((c) => c / m); };
    const hr = hist(init.real || []), hf = hist(f.fake || []), top = Math.max(...hr, ...hf) || 1, base = H * 0.62;
    const bar = (h, color) => { ctx.fillStyle = color; h.forEach((v, i) => ctx.fillRect((i * W) / bins, base - (v / top) * H * 0.45, W / bins - 1, (v / top) * H * 0.45)); };
    if (show("show-real")) bar(hr, "rgba(27,158,90,0.45)");
    if (show("show-fake")) bar(hf, "rgba(123,63,191,0.45)");
    if (f.heat && show("show-heat")) {
      ctx.strokeStyle = "#c2410c"; ctx.lineWidth = 2; ctx.beginPath();
      f.heat.forEach((v, i) => { const x = (i / (f.heat.length - 1)) * W, y = base - norm(v) * H * 0.55; i ? ctx.lineTo(x, y) : ctx.moveTo(x, y); });
      ctx.stroke(); ctx.lineWidth = 1; S.heatDraws += 1;
      ctx.fillStyle = "#c2410c"; ctx.fillText(f.probability ? "D(x)" : "critic", 6, 14);
    }
    if (f.arrows && f.arrows.length && show("show-arrows")) {
      const len = Math.max(...f.arrows.map((a) => Math.abs(sx(a[0] + a[1]) - sx(a[0])))) || 1;
      ctx.strokeStyle = ctx.fillStyle = "#111";
      f.arrows.forEach((a, i) => { const x = sx(a[0]), y = base + 12 + (i % 6) * 5; arrow(ctx, x, y, x + ((sx(a[0] + a[1]) - x) * 28) / len, y); });
    }
    if (f.manifold && show("show-manifold")) {  // lines from z (bottom, scaled to the width) up to G(z)
      ctx.strokeStyle = "rgba(60,60,60,0.35)";
      for (const line of f.manifold) for (const p of line) {
        const zx = ((p[0] + 2.2) / 4.4) * W; ctx.beginPath(); ctx.moveTo(zx, H - 4); ctx.lineTo(sx(p[1]), base + 44); ctx.stroke();
      }
      ctx.fillStyle = "#5b6572"; ctx.fillText("z", 4, H - 8); ctx.fillText("G(z)", 4, base + 40);
    }
  }
  axisLabels(ctx, init, W, H);
  ctx.fillStyle = "#1d232b"; ctx.font = "12px system-ui"; ctx.fillText(`step ${f.step}`, W - 80, 16);
}

function axisLabels(ctx, init, W, H) {  // the data's column names and the ranges shown, in the data's units
  const axes = init.axes || [], bx = init.bounds[0], two = init.bounds.length === 2;
  ctx.font = "11px system-ui"; ctx.fillStyle = "#3b434d";
  const y = two ? H - 4 : H * 0.62 + 10;  // 2-D: along the bottom edge; 1-D: under the histograms' base line
  ctx.textAlign = "left"; ctx.fillText(fmt(bx[0]), 3, y);
  ctx.textAlign = "right"; ctx.fillText(fmt(bx[1]), W - 3, y);
  ctx.textAlign = "center"; ctx.fillText(axes[0] || "x", W / 2, y);
  if (two) {
    const by = init.bounds[1];
    ctx.textAlign = "left"; ctx.fillText(fmt(by[1]), 3, 30); ctx.fillText(fmt(by[0]), 3, H - 16);
    ctx.save(); ctx.translate(12, H / 2); ctx.rotate(-Math.PI / 2); ctx.textAlign = "center";
    ctx.fillText(axes[1] || "y", 0, 0); ctx.restore();
  }
  ctx.textAlign = "left";
}

function arrow(ctx, x0, y0, x1, y1) {
  ctx.beginPath(); ctx.moveTo(x0, y0); ctx.lineTo(x1, y1); ctx.stroke();
  const a = Math.atan2(y1 - y0, x1 - x0), h = 5;
  ctx.beginPath(); ctx.moveTo(x1, y1);
  ctx.lineTo(x1 - h * Math.cos(a - 0.45), y1 - h * Math.sin(a - 0.45));
  ctx.lineTo(x1 - h * Math.cos(a + 0.45), y1 - h * Math.sin(a + 0.45)); ctx.fill();
}

// ---------------------------------------------------------------- sequences and columns
function drawSeries(init, f) {
  const cv = $("series"), ctx = cv.getContext("2d"), W = cv.width, H = cv.height;
  ctx.clearRect(0, 0, W, H);
  const real = init.real || [], fake = f.fake || [];
  if (!real.length) return;
  const F = Math.min(real[0][0].length, 3), panelH = H / F;
  for (let j = 0; j < F; j++) {
    const vals = [...real, ...fake].flatMap((s) => s.map((t) => t[j]));
    let lo = Math.min(...vals), hi = Math.max(...vals); if (hi === lo) hi = lo + 1;
    const y = (v) => j * panelH + panelH - 6 - ((v - lo) / (hi - lo)) * (panelH - 14);
    const draw = (s, color) => { ctx.strokeStyle = color; ctx.beginPath(); s.forEach((t, i) => { const x = 30 + (i / (s.length - 1)) * (W - 40); i ? ctx.lineTo(x, y(t[j])) : ctx.moveTo(x, y(t[j])); }); ctx.stroke(); };
    real.forEach((s) => draw(s, "rgba(27,158,90,0.8)")); fake.forEach((s) => draw(s, "rgba(123,63,191,0.8)"));
    ctx.fillStyle = "#5b6572"; ctx.fillText(`feature ${j}`, 4, j * panelH + 12);
  }
  ctx.fillStyle = "#1d232b"; ctx.fillText(`step ${f.step}`, W - 80, 14);
}

function drawColumns(f) {
  const box = $("columns");
  if (box.children.length !== (f.columns || []).length) {
    box.textContent = "";
    for (const c of f.columns || []) {
      const fig = document.createElement("figure"), cv = document.createElement("canvas"), cap = document.createElement("figcaption");
      cv.width = 200; cv.height = 110; cap.textContent = c.name; fig.append(cv, cap); box.appendChild(fig);
    }
  }
  (f.columns || []).forEach((c, k) => {
    const cv = box.children[k].querySelector("canvas"), ctx = cv.getContext("2d"), W = cv.width, H = cv.height;
    ctx.clearRect(0, 0, W, H);
    const top = Math.max(...c.real, ...c.fake) || 1, n = c.real.length, w = W / n;
    c.real.forEach((v, i) => { ctx.fillStyle = "rgba(27,158,90,0.45)"; ctx.fillRect(i * w, H - (v / top) * (H - 4), w - 1, (v / top) * (H - 4)); });
    ctx.strokeStyle = FAKE; ctx.beginPath();
    c.fake.forEach((v, i) => { const x = i * w + w / 2, y = H - (v / top) * (H - 4); i ? ctx.lineTo(x, y) : ctx.moveTo(x, y); }); ctx.stroke();
  });
}

// ---------------------------------------------------------------- image snapshots
const slider = $("snapshot-slider");
function updateSlider() {
  slider.max = String(Math.max(0, S.snapshots.length - 1));
  if ($("follow").checked || S.shownSnapshot === null) { slider.value = slider.max; showSnapshot(); }
}
function showSnapshot() {
  const snap = S.snapshots[parseInt(slider.value, 10)];
  if (!snap) return;
  S.shownSnapshot = snap.step;
  $("snapshot").src = snap.url;
  $("snapshot-step").textContent = `step ${snap.step} (${parseInt(slider.value, 10) + 1} of ${S.snapshots.length})`;
}
slider.addEventListener("input", () => { $("follow").checked = parseInt(slider.value, 10) === S.snapshots.length - 1; showSnapshot(); });
for (const id of ["show-heat", "show-manifold", "show-real", "show-fake", "show-arrows"]) $(id).addEventListener("change", scheduleFrame);
