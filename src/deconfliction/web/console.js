// The operator console: one party's notices, alerts, decisions and hotline, live, on a
// map with its traffic; its agreements, lead-time statistics and journal slice.
// The bearer token lives in this tab's sessionStorage and travels only as a header (or
// as the event stream's first frame); every value from the API is set as text, never HTML.

import { AirspaceMap } from "./map.js";
import { audit } from "./audit.js";

const TOKEN_KEY = "deconfliction.token";
const REFRESH_MS = 200; // gather a burst of events into one reload of the lists
const RECONNECT_MS = 2000;
const POLL_WAIT_S = 25;
const TRAFFIC_MS = 2000; // how often live traffic is read
const TICK_MS = 1000; // how often deadlines count down

const $ = (id) => document.getElementById(id);
const state = {
  token: null, me: null, lastSeq: 0, notices: [], alerts: [], live: null, refresh: null,
  map: null, traffic: null, replyTo: null,
};

class Problem extends Error {
  constructor(status, body) {
    super(body?.detail ?? `the service answered HTTP ${status}`);
    this.status = status;
  }
}

// A request the service refused for the party's rate (429, before reading it) is sent
// again after the Retry-After it gave, a few times: signing in and reloading the lists
// make a burst of requests, and a party's other clients share its rate.
const RATE_RETRIES = 4;
const RATE_WAIT_MAX_S = 10;

function pause(seconds, signal) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, seconds * 1000);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      reject(signal.reason);
    }, { once: true });
  });
}

async function api(method, path, body, signal) {
  const headers = { Authorization: `Bearer ${state.token}`, Accept: "application/json" };
  const init = { method, headers, cache: "no-store", signal };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response = await fetch(path, init);
  for (let retry = 0; response.status === 429 && retry < RATE_RETRIES; retry += 1) {
    const asked = Number(response.headers.get("retry-after"));
    await pause(Number.isFinite(asked) && asked > 0 ? Math.min(asked, RATE_WAIT_MAX_S) : 1, signal);
    response = await fetch(path, init);
  }
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

// A deadline that counts down (every TICK_MS, see tick()): "in 4 min 05 s", then "passed".
function countdown(iso) {
  return el("time", { class: "countdown", datetime: iso }, remaining(iso));
}

function remaining(iso) {
  const s = Math.round((new Date(iso).getTime() - Date.now()) / 1000);
  if (s <= 0) return "(deadline passed)";
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (n) => String(n).padStart(2, "0");
  return `(${h ? `${h} h ${pad(m)} min` : `${m} min`} ${pad(s % 60)} s left)`;
}

function tick() {
  for (const node of document.querySelectorAll("time.countdown")) {
    const text = remaining(node.getAttribute("datetime"));
    node.textContent = text;
    node.classList.toggle("passed", text === "(deadline passed)");
  }
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
      alert.state === "open" && alert.ack_deadline ? `; acknowledge by ${utc(alert.ack_deadline)} ` : null,
      alert.state === "open" && alert.ack_deadline ? countdown(alert.ack_deadline) : null,
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
  if (!state.map) {
    state.map = new AirspaceMap($("map"));
    $("map").airspace = state.map; // for whoever drives the page (the browser tests)
  }
  const span = state.map.update(state.notices, state.alerts);
  const slider = $("map-time");
  if (span) {
    const keep = Number(slider.value);
    slider.min = String(span[0]);
    slider.max = String(span[1] - 60000);
    if (keep < span[0] || keep > span[1]) slider.value = String(Math.max(span[0], Math.min(Date.now(), span[1] - 60000)));
  }
  slider.disabled = !span;
  $("map-extent").textContent = span
    ? `Volumes from ${utc(new Date(span[0]).toISOString())} to ${utc(new Date(span[1]).toISOString())}; move the slider to see the picture at one time.`
    : "Nothing on the map yet: file a notice.";
  applyFilter();
}

function applyFilter() {
  const any = $("map-any-time").checked;
  const at = any ? null : Number($("map-time").value);
  const bound = (id, fallback) => (Number.isFinite($(id).valueAsNumber) ? $(id).valueAsNumber : fallback);
  $("map-time-shown").textContent = any ? "any time" : utc(new Date(at).toISOString());
  state.map?.setFilter({ at, lower: bound("map-lower", -Infinity), upper: bound("map-upper", Infinity) });
}

async function refreshTraffic() {
  if (!state.map) return;
  try {
    const [tracks, trackAlerts] = await Promise.all([api("GET", "/v1/tracks"), api("GET", "/v1/tracks/alerts")]);
    state.map.traffic(tracks, trackAlerts, suspects);
  } catch (error) {
    if (error.status !== 404 && error.status !== 403) showProblem("alerts-problem", error);
  }
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
  const open = !message.acknowledged_at;
  return el("li", { class: "item", "data-message": message.id },
    el("span", { class: `priority ${message.priority}` }, message.priority),
    el("strong", {}, `From ${message.from}`),
    el("span", { class: "state" }, open ? "unacknowledged" : "acknowledged"),
    el("span", { class: "facts" }, utc(message.created_at),
      open && message.ack_deadline ? `; acknowledge by ${utc(message.ack_deadline)} ` : null,
      open && message.ack_deadline ? countdown(message.ack_deadline) : null),
    el("p", { class: "text" }, message.text),
    el("button", { type: "button", class: "reply", onclick: () => startReply(message), "aria-label": `Reply to the message from ${message.from}` }, "Reply"),
    open ? el("button", { type: "button", class: "ack", onclick: acknowledge, "aria-label": `Acknowledge the message from ${message.from}` }, "Acknowledge") : null);
}

function sentItem(message) {
  const receipt = message.acknowledged_at ? `acknowledged ${utc(message.acknowledged_at)}`
    : message.read_at ? `read ${utc(message.read_at)}`
      : message.delivered_at ? `delivered ${utc(message.delivered_at)}` : "not yet delivered";
  return el("li", { class: "item", "data-message": message.id },
    el("span", { class: `priority ${message.priority}` }, message.priority),
    el("strong", {}, `To ${message.to}`),
    el("span", { class: "state" }, receipt),
    el("p", { class: "text" }, message.text));
}

async function refreshMessages() {
  try {
    const [inbox, sent] = await Promise.all([
      api("GET", "/v1/messages?box=inbox&limit=50"), api("GET", "/v1/messages?box=sent&limit=20"),
    ]);
    $("messages").replaceChildren(...(inbox.length ? inbox.map(messageItem) : [el("li", {}, "No messages.")]));
    $("sent").replaceChildren(...(sent.length ? sent.map(sentItem) : [el("li", {}, "Nothing sent.")]));
    showProblem("messages-problem", null);
  } catch (error) {
    if (error.status === 404) $("messages-section").hidden = true; // a service without the hotline
    else showProblem("messages-problem", error);
  }
}

function startReply(message) {
  state.replyTo = message;
  $("compose-to").value = message.from;
  $("compose-to").disabled = true;
  $("compose-priority").value = message.priority;
  $("compose-reply").textContent = `Replying to ${message.from}: “${message.text.slice(0, 80)}”`;
  $("compose-reply").hidden = false;
  $("compose-cancel-reply").hidden = false;
  $("compose-text").focus();
}

function endReply() {
  state.replyTo = null;
  $("compose-to").disabled = false;
  $("compose-reply").hidden = true;
  $("compose-cancel-reply").hidden = true;
}

async function sendMessage(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const body = { priority: form.elements.priority.value, text: form.elements.text.value };
  if (state.replyTo) body.in_reply_to = state.replyTo.id;
  else body.to = form.elements.to.value.trim();
  showProblem("compose-problem", null);
  try {
    await api("POST", "/v1/messages", body);
    form.elements.text.value = "";
    endReply();
    await refreshMessages();
  } catch (error) {
    showProblem("compose-problem", error);
  }
}

// --- from this party's events: decisions asked of it (notices filed or modified that need
// its acknowledgment or approval, until decided or no longer live), and its aircraft the
// plausibility gate found suspect -------------------------------------------------------

const asked = new Map(); // notice id -> {party, needs, start, version, title, decided}
const suspects = new Map(); // own aircraft id -> when its last suspect episode began

function noteEvent(event) {
  const p = event.payload ?? {};
  if ((event.kind === "notice.filed" || event.kind === "notice.modified") && p.needs?.length) {
    asked.set(p.notice, { party: p.party, needs: p.needs, start: p.start, version: p.version, title: p.title, decided: null });
  } else if (event.kind === "notice.decision" && p.party === state.me?.name && asked.has(p.notice)) {
    asked.get(p.notice).decided = p.state;
  } else if (event.kind === "notice.state_changed" && ["cancelled", "closed"].includes(p.to)) {
    asked.delete(p.notice);
  } else if (event.kind === "track.suspect") {
    suspects.set(p.aircraft, event.at); // the plausibility gate refused a state of it
  }
}

function decisionItem([id, ask]) {
  const decide = (verb) => async (event) => {
    const item = event.currentTarget.closest("li");
    const body = verb === "reject" ? { reason: item.querySelector("input").value.trim() } : undefined;
    if (verb === "reject" && !body.reason) return showProblem("decisions-problem", new Error("Say why you reject it (the filer reads this)."));
    try {
      const done = await api("POST", `/v1/notices/${encodeURIComponent(id)}/${verb}`, body);
      ask.decided = done.state;
      showProblem("decisions-problem", null);
      renderDecisions();
    } catch (error) {
      showProblem("decisions-problem", error);
    }
  };
  const buttons = [];
  if (!ask.decided && ask.needs.includes("acknowledgment")) buttons.push(el("button", { type: "button", class: "acknowledge", onclick: decide("acknowledge") }, "Acknowledge"));
  if (!ask.decided && ask.needs.includes("approval")) {
    buttons.push(el("button", { type: "button", class: "approve", onclick: decide("approve") }, "Approve"));
    buttons.push(el("label", { for: `reason-${id}`, class: "reason" }, "Reason"), el("input", { id: `reason-${id}`, maxlength: "1000" }));
    buttons.push(el("button", { type: "button", class: "reject", onclick: decide("reject") }, "Reject"));
  }
  return el("li", { class: "item", "data-notice": id },
    el("strong", {}, `${ask.party}: ${ask.title ?? id}`),
    el("span", { class: "state" }, ask.decided ?? `${ask.needs.join(" and ")} asked`),
    el("span", { class: "facts" }, `${id} v${ask.version}; starts ${utc(ask.start)} `,
      ask.decided ? null : countdown(ask.start)),
    ...buttons);
}

function renderDecisions() {
  const items = [...asked].reverse();
  $("decisions").replaceChildren(...(items.length ? items.map(decisionItem) : [el("li", {}, "Nothing asked of you.")]));
}

async function readDecisions() {
  const page = await api("GET", "/v1/events?limit=1000"); // after=0: reads, acknowledges nothing
  asked.clear();
  page.events.forEach(noteEvent);
  renderDecisions();
}

// --- agreements and lead-time statistics per counterpart ---------------------------------

const seconds = (s) => (s === null || s === undefined ? "–" : s >= 3600 ? `${(s / 3600).toFixed(1)} h` : s >= 60 ? `${Math.round(s / 60)} min` : `${Math.round(s)} s`);

function direction(row) {
  if (!row) return "–";
  return `${row.notices} notice(s), ${row.short_notices} short; lead time min ${seconds(row.lead_time_min_s)}, median ${seconds(row.lead_time_median_s)}; alerts acknowledged ${row.alerts_acknowledged} (p50 ${seconds(row.alert_ack_p50_s)}); escalations ${row.escalations}, unacknowledged ${row.unacknowledged}`;
}

async function refreshPairs() {
  try {
    const [agreements, stats] = await Promise.all([api("GET", "/v1/agreements"), api("GET", "/v1/stats")]);
    const me = state.me.name;
    const names = new Set([...agreements.map((a) => a.counterpart), ...stats.map((r) => (r.sender === me ? r.recipient : r.sender))]);
    $("counterparts").replaceChildren(...[...names].sort().map((n) => el("option", { value: n })));
    const rows = [...names].sort().map((name) => {
      const agreement = agreements.find((a) => a.counterpart === name);
      const terms = agreement?.terms;
      const said = agreement
        ? `v${agreement.version}; min lead time ${seconds(terms.min_lead_time_s)}${terms.activation_requires_acknowledgment ? "; acknowledgment before activation" : ""}${terms.authority_approval_required ? "; authority approval" : ""}`
        : "none";
      return el("tr", { "data-counterpart": name },
        el("th", { scope: "row" }, name),
        el("td", {}, said),
        el("td", {}, direction(stats.find((r) => r.sender === name && r.recipient === me))),
        el("td", {}, direction(stats.find((r) => r.sender === me && r.recipient === name))));
    });
    $("pairs").tBodies[0].replaceChildren(...(rows.length ? rows : [el("tr", {}, el("td", { colspan: "4" }, "No agreements or exchanges yet."))]));
    showProblem("pairs-problem", null);
  } catch (error) {
    showProblem("pairs-problem", error);
  }
}

async function loadAudit() {
  $("audit-result").textContent = "Checking…";
  showProblem("audit-problem", null);
  try {
    const [exported, key] = await Promise.all([api("GET", "/v1/journal/export"), api("GET", "/v1/journal/key")]);
    const result = await audit(exported, key.public_key);
    $("audit-result").textContent = result.summary;
    $("audit-result").dataset.verified = String(result.ok);
    $("audit").replaceChildren(...exported.entries.slice(-50).reverse().map((e) =>
      el("li", { class: "item", "data-seq": e.seq },
        el("strong", {}, `#${e.seq} ${e.kind}`),
        el("span", { class: "facts" }, `${utc(e.at)}; ${e.subject ?? ""}; hash ${String(e.hash).slice(0, 16)}…`))));
    const link = $("audit-download");
    if (link.href) URL.revokeObjectURL(link.href);
    link.href = URL.createObjectURL(new Blob([JSON.stringify(exported)], { type: "application/json" }));
    link.hidden = false;
  } catch (error) {
    $("audit-result").textContent = "";
    showProblem("audit-problem", error);
  }
}

async function refreshAll() {
  const [notices, alerts] = await Promise.all([api("GET", "/v1/notices"), api("GET", "/v1/alerts")]);
  Object.assign(state, { notices, alerts });
  renderNotices();
  renderAlerts();
  renderMap();
  await Promise.all([refreshMessages(), refreshPairs(), refreshTraffic()]);
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
      noteEvent(frame);
      renderDecisions();
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
        page.events.forEach(noteEvent);
        renderDecisions();
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
    state.me = me;
    sessionStorage.setItem(TOKEN_KEY, token);
    $("who").replaceChildren(el("strong", { id: "party" }, me.name), " — ", el("span", { id: "role" }, me.role));
    showProblem("sign-in-error", null);
    $("sign-in").hidden = true;
    $("console").hidden = false;
    $("sign-out").hidden = false;
    state.lastSeq = (await api("GET", "/v1/events?limit=1")).last_seq; // after=0: reads, acknowledges nothing
    await Promise.all([refreshAll(), readDecisions()]);
    startStream();
    state.traffic = setInterval(refreshTraffic, TRAFFIC_MS);
  } catch (error) {
    signOut(error.status === 401 ? error.message : `Could not load your console: ${error.message}`);
  }
}

function signOut(reason = "") {
  stopLive();
  clearInterval(state.traffic);
  endReply();
  asked.clear();
  sessionStorage.removeItem(TOKEN_KEY);
  Object.assign(state, { token: null, me: null, lastSeq: 0, notices: [], alerts: [], traffic: null });
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
$("compose-form").addEventListener("submit", sendMessage);
$("compose-cancel-reply").addEventListener("click", endReply);
$("audit-load").addEventListener("click", loadAudit);
$("map-time").addEventListener("input", () => {
  $("map-any-time").checked = false;
  applyFilter();
});
for (const id of ["map-any-time", "map-lower", "map-upper"]) $(id).addEventListener("input", applyFilter);
$("map-filter").addEventListener("submit", (event) => event.preventDefault());
setInterval(tick, TICK_MS);
defaultWindow();
const saved = sessionStorage.getItem(TOKEN_KEY);
if (saved) signIn(saved);
