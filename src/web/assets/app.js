// app.js: spamsift's web page. Every view reads the JSON API of the daemon
// (docs/WEB.md); every action is one authenticated API call. The page's
// text comes from /i18n/LANG.json (en is the fallback), so a translation
// needs no change here. Data is put in the page with textContent only.
"use strict";

const S = { t: {}, who: null, before: [], timer: null, view: "" };

const $ = (id) => document.getElementById(id);

function t(key, vars) {
  let s = S.t[key] !== undefined ? S.t[key] : key;
  for (const k in vars || {}) s = s.replace("{" + k + "}", vars[k]);
  return s;
}

async function loadStrings() {
  const langs = (navigator.languages || [navigator.language || "en"]).map((l) => l.slice(0, 2));
  for (const l of langs.concat(["en"])) {
    const r = await fetch("/i18n/" + encodeURIComponent(l) + ".json");
    if (r.ok) {
      S.t = await r.json();
      document.documentElement.lang = l;
      break;
    }
  }
  for (const el of document.querySelectorAll("[data-t]")) el.textContent = t(el.dataset.t);
  for (const el of document.querySelectorAll("[data-tp]")) el.placeholder = t(el.dataset.tp);
}

async function api(path, opts) {
  const o = Object.assign({ headers: {} }, opts || {});
  o.headers["X-Spamsift"] = "1";
  const r = await fetch(path, o);
  let body = null;
  try {
    body = await r.json();
  } catch (e) {
    body = null;
  }
  if (r.status === 401 && !path.startsWith("/login")) {
    showLogin();
    throw new Error(t("login.title"));
  }
  if (!r.ok) {
    const err = new Error((body && body.message) || r.statusText);
    err.status = r.status;
    throw err;
  }
  return body;
}

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}

function showView(name) {
  for (const v of ["login", "history", "message", "charts", "status"])
    $("view-" + v).hidden = v !== name;
  for (const a of document.querySelectorAll("#nav a"))
    a.classList.toggle("active", a.id === "nav-" + name);
  S.view = name;
  $("error").textContent = "";
}

function showLogin() {
  $("nav").hidden = true;
  $("logout").hidden = true;
  showView("login");
}

function fmtTime(ms) {
  const d = new Date(ms);
  return d.toLocaleString(document.documentElement.lang);
}

function actionKey(a) {
  return (a || "").replace(" ", "_");
}

// ---- history ----

function filterQuery(before) {
  const p = new URLSearchParams();
  p.set("limit", "50");
  if ($("f-q").value) p.set("q", $("f-q").value);
  if ($("f-action").value) p.set("action", $("f-action").value);
  if ($("f-min").value !== "") p.set("min", $("f-min").value);
  if ($("f-max").value !== "") p.set("max", $("f-max").value);
  if (before) p.set("before", before);
  return p.toString();
}

function historyRow(e) {
  const tr = el("tr", null, "row");
  tr.dataset.id = e.id;
  tr.appendChild(el("td", fmtTime(e.time)));
  tr.appendChild(el("td", e.from || e.header_from || "", "from"));
  tr.appendChild(el("td", e.subject || t("message.no_subject"), "subject"));
  tr.appendChild(el("td", e.score.toFixed(2), "num"));
  const a = actionKey(e.action);
  tr.appendChild(el("td", t("action." + a), "a-" + a));
  const syms = el("td");
  for (const s of e.symbols) syms.appendChild(el("span", s.name, "sym"));
  tr.appendChild(syms);
  tr.addEventListener("click", () => (location.hash = "#/message/" + e.id));
  return tr;
}

async function loadHistory() {
  const before = S.before.length ? S.before[S.before.length - 1] : 0;
  const j = await api("/api/history?" + filterQuery(before));
  const tb = $("history").querySelector("tbody");
  tb.replaceChildren(...j.entries.map(historyRow));
  $("history-empty").hidden = j.entries.length > 0;
  $("older").hidden = !j.next;
  $("older").dataset.next = j.next || "";
}

function scheduleRefresh() {
  clearInterval(S.timer);
  S.timer = setInterval(() => {
    if (S.view === "history" && $("f-auto").checked && !S.before.length)
      loadHistory().catch(showError);
  }, 5000);
}

// ---- one message ----

function field(dl, key, value) {
  dl.appendChild(el("dt", t("field." + key)));
  dl.appendChild(el("dd", value === null || value === undefined || value === "" ? "—" : value));
}

async function loadMessage(id) {
  const m = await api("/api/history/" + encodeURIComponent(id));
  $("m-subject").textContent = m.subject || t("message.no_subject");
  const dl = $("m-fields");
  dl.replaceChildren();
  field(dl, "id", m.id);
  field(dl, "time", fmtTime(m.time));
  field(dl, "score", m.score.toFixed(2));
  field(dl, "action", t("action." + actionKey(m.action)));
  field(dl, "door", m.door);
  field(dl, "ip", m.ip);
  field(dl, "helo", m.helo);
  field(dl, "from", m.from);
  field(dl, "header_from", m.header_from);
  field(dl, "rcpt", (m.rcpt || []).join(", "));
  field(dl, "user", m.user);
  field(dl, "scan_ms", m.scan_ms);
  field(dl, "size", m.size);
  field(dl, "digest", m.digest);
  field(dl, "raw_kept", t(m.raw_kept ? "yes" : "no"));
  field(dl, "feedback", m.feedback);
  $("m-fields").lastChild.id = "m-feedback";
  const syms = (m.result && m.result.symbols) || [];
  $("m-symbols").querySelector("tbody").replaceChildren(
    ...syms.map((s) => {
      const tr = el("tr");
      tr.appendChild(el("td", s.name));
      tr.appendChild(el("td", s.score.toFixed(2), "num"));
      tr.appendChild(el("td", s.description));
      return tr;
    })
  );
  const feats = [];
  for (const s of syms) for (const f of s.features || []) feats.push(f);
  feats.sort((a, b) => Math.abs(b.weight) - Math.abs(a.weight));
  $("m-features").querySelector("tbody").replaceChildren(
    ...feats.map((f) => {
      const tr = el("tr");
      tr.appendChild(el("td", f.feature));
      tr.appendChild(el("td", f.weight.toFixed(3), "num"));
      tr.appendChild(el("td", f.spam, "num"));
      tr.appendChild(el("td", f.ham, "num"));
      return tr;
    })
  );
  const admin = S.who && S.who.role === "admin";
  $("m-result").textContent = admin ? "" : t("message.read_only");
  for (const b of document.querySelectorAll("#m-actions button")) b.dataset.id = m.id;
}

async function act(ev) {
  const b = ev.currentTarget;
  $("m-result").className = "";
  try {
    const j = await api("/api/history/" + b.dataset.id + "/" + b.dataset.act, {
      method: "POST",
      body: "",
    });
    $("m-result").textContent = t("message.done", { result: j.result });
    $("m-result").className = "ok";
    await loadMessage(b.dataset.id);
    $("m-result").textContent = t("message.done", { result: j.result });
  } catch (e) {
    $("m-result").textContent = e.status === 403 ? t("message.forbidden") : e.message;
    $("m-result").className = "error";
  }
}

// ---- charts (SVG drawn here) ----

const NS = "http://www.w3.org/2000/svg";

function svg(w, h) {
  const s = document.createElementNS(NS, "svg");
  s.setAttribute("viewBox", "0 0 " + w + " " + h);
  s.setAttribute("width", w);
  s.setAttribute("height", h);
  return s;
}

function node(parent, tag, attrs, text) {
  const n = document.createElementNS(NS, tag);
  for (const k in attrs) n.setAttribute(k, attrs[k]);
  if (text !== undefined) n.textContent = text;
  parent.appendChild(n);
  return n;
}

function legend(items) {
  const d = el("div", null, "legend");
  for (const [cls, text] of items) {
    const s = el("span");
    s.appendChild(el("span", null, "sw " + cls));
    s.appendChild(document.createTextNode(text));
    d.appendChild(s);
  }
  return d;
}

function timeLabel(ms) {
  const d = new Date(ms);
  return String(d.getUTCHours()).padStart(2, "0") + ":" + String(d.getUTCMinutes()).padStart(2, "0");
}

function actionsChart(st) {
  const W = 720, H = 200, P = 30, b = st.buckets, bw = (W - P) / b.length;
  const max = Math.max(1, ...b.map((x) => x.no_action + x.add_header + x.reject));
  const s = svg(W, H);
  b.forEach((x, i) => {
    let y = H - 20;
    [["no_action", "c0"], ["add_header", "c1"], ["reject", "c2"]].forEach(([k, cls]) => {
      const h = ((H - 40) * x[k]) / max;
      y -= h;
      if (h > 0) node(s, "rect", { x: P + i * bw, y: y, width: Math.max(1, bw - 1), height: h, class: cls });
    });
    if (i % 8 === 0) node(s, "text", { x: P + i * bw, y: H - 5 }, timeLabel(x.t));
  });
  node(s, "text", { x: 2, y: 14 }, String(max));
  const box = $("c-actions");
  box.replaceChildren(s, legend([["c0", t("action.no_action")], ["c1", t("action.add_header")], ["c2", t("action.reject")]]));
}

function latencyChart(st) {
  const W = 720, H = 200, P = 40, b = st.buckets, bw = (W - P) / b.length;
  const max = Math.max(0.001, ...b.map((x) => x.p99));
  const s = svg(W, H);
  for (const [k, cls] of [["p50", "l50"], ["p99", "l99"]]) {
    const pts = b.map((x, i) => P + i * bw + bw / 2 + "," + (H - 20 - ((H - 40) * x[k]) / max)).join(" ");
    node(s, "polyline", { points: pts, class: cls });
  }
  b.forEach((x, i) => i % 8 === 0 && node(s, "text", { x: P + i * bw, y: H - 5 }, timeLabel(x.t)));
  node(s, "text", { x: 2, y: 14 }, max.toFixed(2));
  $("c-latency").replaceChildren(s, legend([["s50", "p50 " + st.latency_ms.p50.toFixed(2)], ["s99", "p99 " + st.latency_ms.p99.toFixed(2)]]));
}

function hoursChart(st) {
  const W = 720, H = 160, bw = W / 24, s = svg(W, H);
  st.spam_share_by_hour.forEach((x, i) => {
    const share = x.total ? x.spam / x.total : 0, h = (H - 40) * share;
    node(s, "rect", { x: i * bw + 2, y: H - 20 - h, width: bw - 4, height: h, class: "c2" });
    node(s, "text", { x: i * bw + 4, y: H - 5 }, String(i));
    if (x.total) node(s, "text", { x: i * bw + 2, y: H - 24 - h }, Math.round(share * 100) + "%");
  });
  $("c-hours").replaceChildren(s);
}

function symbolsChart(st) {
  const rows = st.top_symbols, W = 720, rh = 20, H = Math.max(1, rows.length) * rh + 10, s = svg(W, H);
  const max = Math.max(1, ...rows.map((r) => r.count));
  rows.forEach((r, i) => {
    node(s, "text", { x: 2, y: i * rh + 15 }, r.name);
    node(s, "rect", { x: 260, y: i * rh + 4, width: ((W - 320) * r.count) / max, height: rh - 6, class: "bar" });
    node(s, "text", { x: 265 + ((W - 320) * r.count) / max, y: i * rh + 15 }, String(r.count));
  });
  $("c-symbols").replaceChildren(s);
}

function originsTable(st) {
  const box = $("c-origins");
  if (!st.reports) {
    box.replaceChildren(el("p", t("charts.no_reports")));
    return;
  }
  const tb = el("table");
  const head = el("tr");
  for (const k of ["charts.network", "charts.country", "charts.reports"]) head.appendChild(el("th", t(k)));
  tb.appendChild(head);
  for (const n of (st.reports.by_network || []).slice(0, 15)) {
    const tr = el("tr");
    tr.appendChild(el("td", n.network || "?"));
    tr.appendChild(el("td", n.country || "?"));
    tr.appendChild(el("td", n.reports !== undefined ? n.reports : n.n, "num"));
    tb.appendChild(tr);
  }
  box.replaceChildren(tb);
}

async function loadCharts() {
  const st = await api("/api/stats?span=86400");
  actionsChart(st);
  latencyChart(st);
  hoursChart(st);
  symbolsChart(st);
  originsTable(st);
}

// ---- status ----

function kvTable(title, obj) {
  const box = el("div");
  box.appendChild(el("h2", title));
  const tb = el("table", null, "kv");
  for (const k in obj) {
    const tr = el("tr");
    tr.appendChild(el("td", k));
    const v = obj[k];
    tr.appendChild(el("td", v === null ? "—" : typeof v === "object" ? JSON.stringify(v) : String(v)));
    tb.appendChild(tr);
  }
  box.appendChild(tb);
  return box;
}

async function loadStatus() {
  const s = await api("/api/status");
  const fp = s.fp_server
    ? { address: s.fp_server.address, state: t(s.fp_server.reachable ? "status.reachable" : "status.unreachable"), ms: s.fp_server.ms }
    : { state: t("status.not_configured") };
  $("s-body").replaceChildren(
    kvTable(t("status.title"), { [t("status.version")]: s.version, [t("status.uptime")]: s.uptime_s, [t("status.threads")]: s.threads }),
    kvTable(t("status.model"), s.model),
    kvTable(t("status.history"), s.history || { state: t("status.not_configured") }),
    kvTable(t("status.fp"), fp),
    kvTable(t("status.config"), s.config)
  );
}

// ---- routing ----

function showError(e) {
  $("error").textContent = t("error.load", { error: e.message });
}

async function route() {
  if (!S.who) return;
  const h = location.hash || "#/history";
  const m = h.match(/^#\/message\/(\d+)$/);
  try {
    if (m) {
      showView("message");
      await loadMessage(m[1]);
    } else if (h === "#/charts") {
      showView("charts");
      await loadCharts();
    } else if (h === "#/status") {
      showView("status");
      await loadStatus();
    } else {
      showView("history");
      await loadHistory();
    }
  } catch (e) {
    showError(e);
  }
}

async function whoami() {
  try {
    S.who = await api("/api/whoami");
  } catch (e) {
    S.who = null;
    return;
  }
  $("nav").hidden = false;
  $("logout").hidden = !S.who.login;
  $("who").textContent = S.who.login ? S.who.user + " (" + S.who.role + ")" : t("who.open");
  await route();
}

async function login(ev) {
  ev.preventDefault();
  const body = new URLSearchParams({ user: $("login-user").value, password: $("login-password").value });
  try {
    await api("/login", { method: "POST", body: body, headers: {} });
    $("login-password").value = "";
    $("login-error").textContent = "";
    await whoami();
  } catch (e) {
    $("login-error").textContent = t("login.failed");
  }
}

async function start() {
  await loadStrings();
  $("login-form").addEventListener("submit", login);
  $("logout").addEventListener("click", async () => {
    await api("/logout", { method: "POST", body: "" }).catch(() => {});
    S.who = null;
    showLogin();
  });
  $("filter").addEventListener("submit", (ev) => {
    ev.preventDefault();
    S.before = [];
    loadHistory().catch(showError);
  });
  $("older").addEventListener("click", () => {
    S.before.push($("older").dataset.next);
    loadHistory().catch(showError);
  });
  for (const b of document.querySelectorAll("#m-actions button")) b.addEventListener("click", act);
  window.addEventListener("hashchange", route);
  scheduleRefresh();
  await whoami();
}

start();
