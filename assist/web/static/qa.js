// The QA pages: search and filter calls, read one (summary, scorecard, timeline), replay it.
"use strict";

const $ = (id) => document.getElementById(id);
const PAGE = 25;
let offset = 0;

async function api(path, options = {}) {
  return (await apiFetch(path, options, "call log")).json();
}

function when(epoch) { return epoch ? new Date(epoch * 1000).toLocaleString() : "—"; }
function scoreNode(score) {
  if (score === null || score === undefined) return el("span", { class: "score" }, "—");
  return el("span", { class: `score ${score < 60 ? "low" : score >= 85 ? "high" : ""}` }, Math.round(score));
}
function dayEpoch(value, end) {
  if (!value) return "";
  const date = new Date(`${value}T00:00:00`);
  if (end) date.setDate(date.getDate() + 1);
  return String(date.getTime() / 1000);
}

async function loadList() {
  const form = new FormData($("filters"));
  const params = new URLSearchParams({ limit: PAGE, offset });
  for (const [key, value] of form.entries()) {
    if (!value) continue;
    params.set(key, key === "since" ? dayEpoch(value, false) : key === "until" ? dayEpoch(value, true) : value);
  }
  const page = await api(`/api/calls?${params}`);
  const rows = page.calls.map((call) => {
    const tags = call.tags || {};
    const row = el("tr", { class: "clickable", "data-testid": "call-row", onclick: () => { location.hash = `call=${call.id}`; } },
      el("td", {}, when(call.started_at)),
      el("td", {}, call.duration_s ? clock(call.duration_s) : "—"),
      el("td", {}, call.agent_id),
      el("td", {}, call.caller_number || "unknown"),
      el("td", {}, (tags.intent || []).join(", ") || "—"),
      el("td", {}, (tags.signal || []).join(", ") || "—"),
      el("td", {}, scoreNode(call.qa_score)),
      el("td", {}, call.status));
    const hits = (call.hits || []).slice(0, 3).map((h) => el("div", {}, `${clock(h.start_s)} ${h.speaker}: “${h.text}”`));
    return hits.length ? [row, el("tr", {}, el("td", { colspan: 8, class: "hits", "data-testid": "hits" }, hits))] : [row];
  }).flat();
  $("calls").replaceChildren(...(rows.length ? rows : [el("tr", {}, el("td", { colspan: 8, class: "empty" }, "No calls match."))]));
  $("page").textContent = page.total ? `${offset + 1}–${offset + page.calls.length} of ${page.total}` : "0 calls";
  $("prev").disabled = offset === 0;
  $("next").disabled = page.next_offset === null;
}

async function loadAgents() {
  const { agents } = await api("/api/qa/agents");
  $("agents").replaceChildren(...agents.map((a) => {
    const items = Object.entries(a.items || {}).filter(([, v]) => v.pass_rate !== null && v.pass_rate !== undefined);
    const weakest = items.sort((x, y) => x[1].pass_rate - y[1].pass_rate)[0];
    return el("tr", { "data-testid": "agent-row" }, el("td", {}, a.agent_id), el("td", {}, a.calls), el("td", {}, scoreNode(a.mean_score)),
      el("td", {}, weakest ? `${weakest[1].title || weakest[0]} (${Math.round(weakest[1].pass_rate * 100)}%)` : "—"));
  }));
}

function renderScorecard(qa) {
  $("score").replaceChildren(qa ? scoreNode(qa.score) : "");
  if (!qa) { $("scorecard").replaceChildren(el("span", { class: "empty" }, "Not scored.")); return; }
  const marks = { passed: "✓", failed: "✗", not_applicable: "–" };
  $("scorecard").replaceChildren(...qa.items.map((item) => el("div", { class: "item", "data-testid": "qa-item", "data-status": item.status },
    el("span", { class: `mark ${item.status}` }, marks[item.status] || "?"),
    el("div", {}, el("strong", {}, item.title),
      item.evidence ? el("span", { class: "evidence" }, `${clock(item.evidence.start_s)} ${item.evidence.speaker}: “${item.evidence.text}”`) : null,
      item.note ? el("span", { class: "note" }, item.note) : null))));
}

// What the system proposed at the end of the call, and what the agent saved: QA sees both.
function renderWrapup(wrapup) {
  if (!wrapup) { $("wrapup").replaceChildren(el("span", { class: "empty" }, "The agent has not saved a wrap-up.")); return; }
  const { proposed, saved } = wrapup;
  const rows = [["Summary", "summary"], ["Wrap-up code", "disposition"], ["Outcome", "outcome"], ["Notes", "notes"]];
  $("wrapup").replaceChildren(el("table", { class: "wrapup-compare" },
    el("thead", {}, el("tr", {}, el("th", {}, ""), el("th", {}, "Proposed"), el("th", {}, `Saved by ${wrapup.agent_id}`))),
    el("tbody", {}, rows.map(([label, key]) => el("tr", { class: proposed[key] === saved[key] ? "" : "changed" },
      el("th", {}, label), el("td", {}, proposed[key] || "—"), el("td", {}, saved[key] || "—"))))));
}

function renderTimeline(call) {
  const entries = call.utterances.map((u) => ({ t: u.start_s, who: u.speaker, cls: u.speaker, text: u.text }));
  for (const g of call.guidance) {
    const label = g.type === "suggestion" ? `card: ${g.title}` : g.type === "offer" ? `offer: ${g.title}` : `${g.severity || ""} ${g.title || g.kind}`;
    entries.push({ t: g.at_s ?? g.emitted_s ?? 0, who: g.type, cls: "guidance", text: label });
  }
  for (const f of call.feedback) entries.push({ t: null, who: "feedback", cls: "guidance", text: `${f.action}: ${f.card_id}` });
  entries.sort((a, b) => (a.t ?? Infinity) - (b.t ?? Infinity));
  $("timeline").replaceChildren(...entries.map((e) => el("div", { class: `tl ${e.cls}`, "data-testid": "timeline-entry" },
    el("span", { class: "t" }, e.t === null ? "" : clock(e.t)), el("span", { class: "who" }, e.who), el("span", { class: "text" }, e.text))));
}

async function showCall(id) {
  $("list-view").hidden = true; $("agents-panel").hidden = true; $("call-view").hidden = false;
  stopReplay(); $("replay").hidden = true; $("replay-status").textContent = "";
  const call = await api(`/api/calls/${encodeURIComponent(id)}`);
  const profile = call.caller || {};
  $("call-head").replaceChildren(
    el("div", { class: "number" }, call.caller_number || "Unknown caller", profile.name ? ` · ${profile.name}` : "",
      profile.segment ? el("span", { class: "badge" }, profile.segment) : null),
    el("div", { class: "meta" }, el("span", {}, when(call.started_at)), el("span", {}, `agent ${call.agent_id}`),
      el("span", {}, call.duration_s ? clock(call.duration_s) : "live"), el("span", {}, call.platform), el("span", {}, call.platform_call_id),
      el("span", {}, call.status), call.transferred_from ? el("a", { href: `#call=${call.transferred_from}` }, "earlier leg") : null));
  const summary = call.summary;
  $("summary").replaceChildren(summary ? el("p", {}, summary.text) : el("span", { class: "empty" }, "No summary yet."));
  renderScorecard(call.qa);
  renderWrapup(call.wrapup);
  renderTimeline(call);
  for (const format of ["json", "csv"]) $(`export-${format}`).onclick = (event) => { event.preventDefault(); exportCall(id, format); };
  $("delete").onclick = async () => {
    if (!confirm("Delete this call and everything stored with it?")) return;
    await api(`/api/calls/${encodeURIComponent(id)}`, { method: "DELETE" });
    location.hash = "";
  };
  $("play").onclick = () => startReplay(id);
}

// A download with the token in a header, not in a link (links end up in logs and history).
async function exportCall(id, format) {
  const response = await fetch(`/api/calls/${encodeURIComponent(id)}/export?format=${format}`, { headers: Auth.headers() });
  if (!response.ok) { $("status").className = "status offline"; $("status").textContent = `export failed (${response.status})`; return; }
  const link = el("a", { href: URL.createObjectURL(await response.blob()), download: `call-${id}.${format}` });
  document.body.append(link); link.click(); link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10000);
}

// Replay as the agent saw it, with a moving position, pause and seek. The events come with
// their time on the call's clock; a call recording, when kept, sets the clock instead.
class Replayer {
  constructor(data, recording) {
    this.data = data; this.events = data.events; this.recording = recording;
    this.duration = Math.max(data.duration_s || 0, ...this.events.map((e) => e.replay_s || 0));
    this.view = new CallView($("replay-view"), { showFeedback: false });
    this.position = 0; this.next = 0; this.playing = false; this.last = null;
    $("seek").max = String(this.duration); $("seek").value = "0";
    $("seek").oninput = () => this.seek(Number($("seek").value));
    $("pause").onclick = () => (this.playing ? this.pause() : this.play());
    if (recording) {
      recording.hidden = false;
      recording.ontimeupdate = () => { if (this.playing) this.advanceTo(recording.currentTime); };
      recording.onended = () => this.finish();
    }
    this.restart();
  }
  get speed() { return Number($("speed").value) || 1; }
  restart() { this.view.reset({ ...this.data.call, started_at: Date.now() / 1000 }); this.next = 0; this.position = 0; }
  advanceTo(t) {
    while (this.next < this.events.length && (this.events[this.next].replay_s || 0) <= t) this.view.handle(this.events[this.next++]);
    this.position = t;
    $("seek").value = String(t); $("position").textContent = `${clock(t)} / ${clock(this.duration)}`;
    if (this.next >= this.events.length && t >= this.duration) this.finish();
  }
  seek(t) {
    if (t < this.position) this.restart();
    this.advanceTo(t);
    if (this.recording) this.recording.currentTime = t;
    if (!this.playing && t < this.duration) $("replay-status").textContent = `paused at ${clock(t)}`;
  }
  play() {
    if (this.position >= this.duration) this.seek(0);
    this.playing = true; this.last = performance.now();
    $("pause").textContent = "Pause"; $("pause").setAttribute("aria-pressed", "false");
    $("replay-status").textContent = `playing at ${this.speed}×…`;
    if (this.recording) { this.recording.playbackRate = Math.min(this.speed, 4); this.recording.play().catch(() => {}); return; }
    const step = (now) => {
      if (!this.playing) return;
      this.advanceTo(Math.min(this.duration, this.position + ((now - this.last) / 1000) * this.speed));
      this.last = now;
      if (this.playing) this.frame = requestAnimationFrame(step);
    };
    this.frame = requestAnimationFrame(step);
  }
  pause() {
    this.playing = false; cancelAnimationFrame(this.frame);
    if (this.recording) this.recording.pause();
    $("pause").textContent = "Play"; $("pause").setAttribute("aria-pressed", "true");
    $("replay-status").textContent = `paused at ${clock(this.position)}`;
  }
  finish() {
    this.playing = false; cancelAnimationFrame(this.frame);
    $("pause").textContent = "Play again"; $("pause").setAttribute("aria-pressed", "false");
    $("replay-status").textContent = `finished (${this.events.length} events)`;
  }
  stop() { this.playing = false; cancelAnimationFrame(this.frame); if (this.recording) { this.recording.pause(); this.recording.removeAttribute("src"); } }
}

let replayer = null;
function stopReplay() { if (replayer) { replayer.stop(); replayer = null; } }

async function recordingOf(id) {
  const response = await fetch(`/api/calls/${encodeURIComponent(id)}/recording`, { headers: Auth.headers() });
  if (!response.ok) return null;
  const audio = $("recording");
  audio.src = URL.createObjectURL(await response.blob());
  return audio;
}

async function startReplay(id) {
  stopReplay();
  $("replay").hidden = false; $("recording").hidden = true;
  let data;
  try { data = await api(`/api/calls/${encodeURIComponent(id)}/events`); } catch (error) {
    $("replay-status").textContent = `cannot play: ${error.message}`;
    return;
  }
  replayer = new Replayer(data, await recordingOf(id).catch(() => null));
  replayer.play();
}

function route() {
  const match = location.hash.match(/call=([^&]+)/);
  if (match) { showCall(decodeURIComponent(match[1])).catch(() => {}); return; }
  stopReplay();
  $("call-view").hidden = true; $("list-view").hidden = false; $("agents-panel").hidden = false;
  loadList().catch(() => {}); loadAgents().catch(() => {});
}

$("filters").addEventListener("submit", (event) => { event.preventDefault(); offset = 0; loadList().catch(() => {}); });
$("prev").onclick = () => { offset = Math.max(0, offset - PAGE); loadList().catch(() => {}); };
$("next").onclick = () => { offset += PAGE; loadList().catch(() => {}); };
$("back").onclick = (event) => { event.preventDefault(); location.hash = ""; };
window.addEventListener("hashchange", route);
route();
