// The supervisor page: every live call ranked by risk, updated in place (no row is rebuilt
// under the pointer); follow one live, see when it ends, send its agent a short message.
"use strict";

const $ = (id) => document.getElementById(id);
const calls = new Map();  // call_id -> {summary, alerts[], mood, row}
let followed = null, followSocket = null, view = null;
const SEVERITY = { high: 3, warning: 2, info: 1 };
const SEGMENT = { vip: 2, gold: 1.5, platinum: 2 };

// Higher first: the worst recent alert, how unhappy the customer sounds, what they are worth.
function risk(entry) {
  const alerts = entry.alerts.slice(-3).reduce((worst, a) => Math.max(worst, SEVERITY[a.severity] || 0), 0);
  const mood = entry.mood ? entry.mood.level * 3 : 0;
  const worth = SEGMENT[String(entry.summary.caller?.segment || "").toLowerCase()] || 1;
  return (alerts + mood) * worth;
}

function cell(text) { return el("td", {}, text); }

function renderRow(entry) {
  const { summary, alerts, mood } = entry;
  if (!entry.row) {
    entry.row = el("tr", { class: "clickable", "data-testid": "live-call", "data-call-id": summary.call_id, tabindex: "0",
      onclick: () => follow(summary.call_id), onkeydown: (e) => { if (e.key === "Enter") follow(summary.call_id); } });
    entry.cells = Array.from({ length: 8 }, () => el("td"));
    entry.row.append(...entry.cells);
  }
  const c = entry.cells, score = risk(entry);
  c[0].replaceChildren(el("span", { class: `risk r${score >= 6 ? 3 : score >= 3 ? 2 : score > 0 ? 1 : 0}`, title: `risk ${score.toFixed(1)}` },
    score >= 6 ? "High" : score >= 3 ? "Medium" : score > 0 ? "Low" : "—"));
  c[1].replaceChildren(el("span", { "data-testid": "duration" }, clock(Date.now() / 1000 - summary.started_at)));
  c[2].replaceChildren(summary.agent_id || "");
  c[3].replaceChildren(summary.caller_number || "unknown", summary.caller?.name ? ` · ${summary.caller.name}` : "");
  c[4].replaceChildren(summary.caller?.segment ? el("span", { class: `badge ${String(summary.caller.segment).toLowerCase()}` }, summary.caller.segment) : "—");
  c[5].replaceChildren(mood && mood.intent ? mood.intent : "—");
  c[6].replaceChildren(mood ? el("span", { class: `mood ${mood.label}`, "data-testid": "row-mood", title: (mood.trend || []).join(", ") },
    MOOD_WORDS[mood.label] || mood.label, mood.direction > 0 ? " ↘" : mood.direction < 0 ? " ↗" : "") : "—");
  c[7].replaceChildren(...alerts.slice(-2).map((a) => el("div", { class: `alert ${a.severity || ""}` }, a.title || a.kind,
    a.evidence ? el("span", { class: "evidence" }, `“${a.evidence}”`) : null)));
  entry.row.classList.toggle("selected", summary.call_id === followed);
  entry.score = score;
}

// Rows are re-ordered only when the order changes, and moved, never rebuilt.
function place() {
  const body = $("calls");
  const entries = [...calls.values()].sort((a, b) => b.score - a.score || a.summary.started_at - b.summary.started_at);
  if (!entries.length) { body.replaceChildren(el("tr", {}, el("td", { colspan: 8, class: "empty" }, "No live calls."))); return; }
  body.querySelector(".empty")?.closest("tr")?.remove();
  entries.forEach((entry, i) => { if (body.children[i] !== entry.row) body.insertBefore(entry.row, body.children[i] || null); });
}

function update(callId) { const entry = calls.get(callId); if (entry) { renderRow(entry); place(); } }

function follow(callId) {
  followed = callId;
  for (const entry of calls.values()) entry.row?.classList.toggle("selected", entry.summary.call_id === followed);
  if (followSocket) followSocket.close();
  $("follow").hidden = false; $("follow-ended").hidden = true; $("message-status").textContent = "";
  const entry = calls.get(callId);
  $("follow-title").textContent = entry ? `${entry.summary.agent_id} · ${entry.summary.caller_number || "unknown caller"}` : callId;
  view = new CallView($("follow-view"), { showFeedback: false });
  followSocket = new LiveSocket(`/ws/supervisor?call=${encodeURIComponent(callId)}`, {
    onMessage: (m) => {
      if (m.type === "call_started") view.reset({ ...m });
      else if (m.type === "error" && m.fatal) { ended("The call has ended."); followSocket.close(); }
      else view.handle(m);
      if (m.type === "call_ended") { ended(`Call ended (${m.reason}).`); followSocket.close(); }
    },
    onStatus: () => {},
  });
}

function ended(text) {
  $("follow-ended").hidden = false;
  $("follow-ended").textContent = text;
}

$("message-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const text = $("message-text").value.trim();
  if (!text || !followed) return;
  const sent = overview.send({ type: "coaching", call_id: followed, text });
  $("message-status").textContent = sent ? "Sent." : "Not sent: reconnecting…";
  if (sent) $("message-text").value = "";
});

const overview = new LiveSocket("/ws/supervisor", {
  onMessage: (m) => {
    if (m.type === "call_started") {
      const old = calls.get(m.call_id);
      calls.set(m.call_id, { summary: m, alerts: old ? old.alerts : [], mood: old ? old.mood : null, row: old?.row, cells: old?.cells });
      update(m.call_id);
    } else if (m.type === "call_ended") {
      calls.get(m.call_id)?.row?.remove();
      calls.delete(m.call_id);
      if (m.call_id === followed) ended(`Call ended (${m.reason}).`);
      place();
    } else if (m.type === "signal" && calls.has(m.call_id)) {
      calls.get(m.call_id).alerts.push(m); update(m.call_id);
    } else if (m.type === "mood" && calls.has(m.call_id)) {
      calls.get(m.call_id).mood = m; update(m.call_id);
    } else if (m.type === "error") {
      $("message-status").textContent = m.reason;
    }
  },
  onStatus: (online, reason) => {
    $("status").className = `status ${online ? "online" : "offline"}`;
    $("status").textContent = online ? "live" : (reason || "reconnecting…");
    if (online) { for (const entry of calls.values()) entry.row?.remove(); calls.clear(); place(); }
  },
});
// The duration column ticks; nothing else is redrawn on a timer.
setInterval(() => { for (const entry of calls.values()) entry.cells?.[1].firstChild && (entry.cells[1].firstChild.textContent = clock(Date.now() / 1000 - entry.summary.started_at)); }, 1000);
