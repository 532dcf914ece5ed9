// The operator console: one party's notices, alerts and hotline inbox, live, on a map.
// The bearer token lives in this tab's sessionStorage and travels only as a header (or
// as the event stream's first frame); every value from the API is set as text, never HTML.

import { drawMap } from "./map.js";

const TOKEN_KEY = "deconfliction.token";
const REFRESH_MS = 200; // gather a burst of events into one reload of the lists
const RECONNECT_MS = 2000;
const POLL_WAIT_S = 25;

const $ = (id) => document.getElementById(id);
const state = { token: null, lastSeq: 0, notices: [], alerts: [], live: null, refresh: null };

class Problem extends Error {
  constructor(status, body) {
    super(body?.detail ?? `the service answered HTTP ${status}`);
    this.status = status;
  }
}

async function api(method, path, body, signal) {
  const headers = { Authorization: `Bearer ${state.token}`, Accept: "application/json" };
  const init = { method, headers, cache: "no-store", signal };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  const json = (response.headers.get("content-type") ?? "").includes("json");
  const data = json ? await response.json() : null;
  if (!response.ok) throw new Problem(response.status, data);
  return data;
}

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attributes)) {
    if (k === "onclick") node.addEventListener("click", v);
    else node.setAttribute(k, v);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

const utc = (iso) => (iso ? `${new Date(iso).toISOString().slice(0, 16).replace("T", " ")}Z` : "–");
const band = (p) => `${Math.round(p.lower_m)}–${Math.round(p.upper_m)} m`;
const window_ = (p) => `${utc(p.start)} → ${utc(p.end)}`;

function showProblem(id, error) {
  $(id).textContent = error ? error.message : "";
}

// --- lists ---------------------------------------------------------------------------

function alertItem(alert) {
  const p = alert.conflict.properties;
  const acknowledge = async (event) => {
    const button = event.currentTarget;
    button.disabled = true;
    try {
      const updated = await api("POST", `/v1/alerts/${encodeURIComponent(alert.id)}/acknowledge`);
      state.alerts = state.alerts.map((a) => (a.id === updated.id ? updated : a));
      showProblem("alerts-problem", null);
      renderAlerts();
      renderMap();
    } catch (error) {
      showProblem("alerts-problem", error);
      button.disabled = false;
    }
  };
  return el("li", { class: `item ${alert.state}`, "data-alert": alert.id },
    el("span", { class: `priority ${alert.priority}` }, alert.priority),
    el("strong", {}, `Conflict with ${p.counterpart}`),
    el("span", { class: "state" }, alert.state),
    el("span", { class: "facts" },
      `${alert.kind}; ${band(p)}; ${window_(p)}`,
      p.notice ? `; your notice ${p.notice}` : null,
      alert.state === "open" && alert.ack_deadline ? `; acknowledge by ${utc(alert.ack_deadline)}` : null,
      alert.escalation_tier ? `; escalated ${alert.escalation_tier}×` : null),
    alert.state === "open"
      ? el("button", { type: "button", onclick: acknowledge, "aria-label": `Acknowledge the conflict with ${p.counterpart} from ${utc(p.start)}` }, "Acknowledge")
      : null);
}

function renderAlerts() {
  const open = state.alerts.filter((a) => a.state === "open").length;
  $("alerts-title").textContent = `Alerts (${open} open)`;
  $("alerts").replaceChildren(...(state.alerts.length ? state.alerts.map(alertItem) : [el("li", {}, "No alerts.")]));
}

function noticeItem(notice) {
  const first = notice.volumes.features[0]?.properties;
  const waiting = notice.approvals.filter((a) => a.state === "pending").map((a) => a.party);
  return el("li", { class: `item ${notice.state}`, "data-notice": notice.id },
    el("strong", {}, notice.title || notice.id),
    el("span", { class: "state" }, notice.state),
    notice.short_notice ? el("span", { class: "priority flash" }, "short notice") : null,
    el("span", { class: "facts" },
      `${notice.id} v${notice.version}; ${notice.volumes.features.length} volume(s)`,
      first ? `; ${band(first)}; ${window_(first)}` : null,
      waiting.length ? `; awaiting ${waiting.join(", ")}` : null));
}

function renderNotices() {
  $("notices").replaceChildren(...(state.notices.length ? state.notices.map(noticeItem) : [el("li", {}, "No notices.")]));
}

function renderMap() {
  const view = drawMap($("map"), state.notices, state.alerts);
  const deg = (v, pos, neg) => `${Math.abs(v).toFixed(3)}° ${v < 0 ? neg : pos}`;
  $("map-extent").textContent = view
    ? `Shown: ${deg(view.bounds[0], "E", "W")} to ${deg(view.bounds[2], "E", "W")}, ${deg(view.bounds[1], "N", "S")} to ${deg(view.bounds[3], "N", "S")} (north up).`
    : "Nothing on the map yet: file a notice.";
}

function messageItem(message) {
  const acknowledge = async (event) => {
    const button = event.currentTarget;
    button.disabled = true;
    try {
      await api("POST", `/v1/messages/${encodeURIComponent(message.id)}/acknowledge`);
      await refreshMessages();
    } catch (error) {
      showProblem("messages-problem", error);
      button.disabled = false;
    }
  };
  return el("li", { class: "item", "data-message": message.id },
    el("span", { class: `priority ${message.priority}` }, message.priority),
    el("strong", {}, `From ${message.from}`),
    el("span", { class: "state" }, message.acknowledged_at ? "acknowledged" : "unacknowledged"),
    el("span", { class: "facts" }, utc(message.created_at)),
    el("p", { class: "text" }, message.text),
    message.acknowledged_at
      ? null
      : el("button", { type: "button", onclick: acknowledge, "aria-label": `Acknowledge the message from ${message.from}` }, "Acknowledge"));
}

async function refreshMessages() {
  try {
    const messages = await api("GET", "/v1/messages?box=inbox&limit=50");
    $("messages").replaceChildren(...(messages.length ? messages.map(messageItem) : [el("li", {}, "No messages.")]));
    showProblem("messages-problem", null);
  } catch (error) {
    if (error.status === 404) $("messages-section").hidden = true; // a service without the hotline
    else showProblem("messages-problem", error);
  }
}

async function refreshAll() {
  const [notices, alerts] = await Promise.all([api("GET", "/v1/notices"), api("GET", "/v1/alerts")]);
  Object.assign(state, { notices, alerts });
  renderNotices();
  renderAlerts();
  renderMap();
  await refreshMessages();
}

function scheduleRefresh() {
  clearTimeout(state.refresh);
  state.refresh = setTimeout(() => refreshAll().catch((e) => showProblem("alerts-problem", e)), REFRESH_MS);
}

// --- live updates: the WebSocket event stream, else long polling ------------------------

function setLive(mode, text) {
  $("live").dataset.mode = mode;
  $("live").textContent = `Live updates: ${text}`;
}

function stopLive() {
  const live = state.live;
  state.live = null;
  if (!live) return;
  clearTimeout(live.timer);
  live.socket?.close(1000);
  live.abort?.abort();
}

function startStream() {
  const url = new URL(`/v1/stream?after=${state.lastSeq}`, location.href);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  const live = { socket: new WebSocket(url), greeted: false };
  state.live = live;
  live.socket.onopen = () => live.socket.send(JSON.stringify({ token: state.token }));
  live.socket.onmessage = (message) => {
    const frame = JSON.parse(message.data);
    if (frame.hello) {
      live.greeted = true;
      setLive("stream", "on (event stream)");
    } else if (typeof frame.seq === "number") {
      state.lastSeq = frame.seq;
      live.socket.send(JSON.stringify({ ack: frame.seq }));
      scheduleRefresh();
    }
  };
  live.socket.onclose = (event) => {
    if (state.live !== live) return; // stopped on purpose
    if (event.code === 4401) return signOut("Your token is no longer accepted; sign in again.");
    if (!live.greeted) return startPolling(); // no WebSocket on this path: poll instead
    setLive("retry", "reconnecting…");
    live.timer = setTimeout(startStream, RECONNECT_MS);
  };
}

async function startPolling() {
  const live = { abort: new AbortController() };
  state.live = live;
  setLive("poll", "on (polling)");
  while (state.live === live) {
    try {
      const page = await api("GET", `/v1/events?after=${state.lastSeq}&wait=${POLL_WAIT_S}`, undefined, live.abort.signal);
      if (page.events.length) {
        state.lastSeq = page.events[page.events.length - 1].seq;
        scheduleRefresh();
      }
      setLive("poll", "on (polling)");
    } catch (error) {
      if (state.live !== live) return;
      if (error.status === 401) return signOut("Your token is no longer accepted; sign in again.");
      setLive("retry", `interrupted (${error.message}); retrying`);
      await new Promise((resolve) => { live.timer = setTimeout(resolve, RECONNECT_MS); });
    }
  }
}

// --- sign in and out ---------------------------------------------------------------------

async function signIn(token) {
  state.token = token;
  try {
    const me = await api("GET", "/v1/me");
    sessionStorage.setItem(TOKEN_KEY, token);
    $("who").replaceChildren(el("strong", { id: "party" }, me.name), " — ", el("span", { id: "role" }, me.role));
    showProblem("sign-in-error", null);
    $("sign-in").hidden = true;
    $("console").hidden = false;
    $("sign-out").hidden = false;
    state.lastSeq = (await api("GET", "/v1/events?limit=1")).last_seq; // after=0: reads, acknowledges nothing
    await refreshAll();
    startStream();
  } catch (error) {
    signOut(error.status === 401 ? error.message : `Could not load your console: ${error.message}`);
  }
}

function signOut(reason = "") {
  stopLive();
  sessionStorage.removeItem(TOKEN_KEY);
  Object.assign(state, { token: null, lastSeq: 0, notices: [], alerts: [] });
  $("console").hidden = true;
  $("sign-out").hidden = true;
  $("sign-in").hidden = false;
  $("who").textContent = "Not signed in";
  setLive("off", "off");
  $("sign-in-error").textContent = reason;
  $("token").value = "";
  $("token").focus();
}

// --- filing a notice ------------------------------------------------------------------------

const utcInput = (value) => `${value}${value.length === 16 ? ":00" : ""}Z`; // datetime-local, read as UTC

function noticeBody(form) {
  const number = (name) => form.elements[name].valueAsNumber;
  return {
    title: form.elements.title.value,
    volumes: [{
      type: "Feature",
      geometry: { type: "Point", coordinates: [number("lon"), number("lat")] },
      properties: {
        radius_m: number("radius_m"),
        lower_m: number("lower_m"),
        upper_m: number("upper_m"),
        start: utcInput(form.elements.start.value),
        end: utcInput(form.elements.end.value),
      },
    }],
  };
}

async function fileNotice(event) {
  event.preventDefault();
  const form = event.currentTarget;
  showProblem("file-problem", null);
  try {
    const filing = await api("POST", "/v1/notices", noticeBody(form));
    const n = filing.conflicts.length;
    $("filed").replaceChildren(
      el("p", {}, `Filed ${filing.notice.id} (${filing.notice.state}): ${n ? `${n} conflict(s)` : "no conflicts"}.`),
      el("ul", { id: "filed-conflicts", class: "items" }, ...filing.conflicts.map((c) =>
        el("li", { class: "item" }, el("strong", {}, c.properties.counterpart),
          el("span", { class: "facts" }, `${c.properties.kind}; ${band(c.properties)}; ${window_(c.properties)}`)))));
    await refreshAll();
  } catch (error) {
    $("filed").replaceChildren();
    showProblem("file-problem", error);
  }
}

function defaultWindow() {
  const start = new Date(Math.ceil(Date.now() / 3600e3) * 3600e3 + 3600e3);
  const iso = (d) => d.toISOString().slice(0, 16);
  $("file-start").value = iso(start);
  $("file-end").value = iso(new Date(start.getTime() + 2 * 3600e3));
}

$("sign-in-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const token = $("token").value.trim();
  if (token) signIn(token);
  else $("sign-in-error").textContent = "Enter your party's bearer token.";
});
$("sign-out").addEventListener("click", () => signOut());
$("file-form").addEventListener("submit", fileNotice);
defaultWindow();
const saved = sessionStorage.getItem(TOKEN_KEY);
if (saved) signIn(saved);
