// The agent sidebar: this agent's live call(s), pushed by the server over /ws/sidebar.
"use strict";

const params = new URLSearchParams(location.search);
const agent = params.get("agent");
const $ = (id) => document.getElementById(id);
const roots = { caller: $("caller"), alerts: $("alerts"), cards: $("cards"), offers: $("offers"),
  transcript: $("transcript"), alertsPanel: $("alerts-panel"), offersPanel: $("offers-panel") };
const calls = new Map();  // call_id -> {summary, events[]}
let current = null;

$("agent").textContent = agent ? `Agent ${agent}` : "";
const view = new CallView(roots, { onFeedback: (callId, cardId, action) => socket.send({ type: "feedback", call_id: callId, card_id: cardId, action }) });

function show(callId) {
  current = callId;
  const call = calls.get(callId);
  view.reset(call.summary);
  for (const message of call.events) view.handle(message);
  renderTabs();
}

function renderTabs() {
  const tabs = $("tabs");
  tabs.hidden = calls.size < 2;
  tabs.replaceChildren(...[...calls.values()].map((c) => el("button", { type: "button", "aria-pressed": String(c.summary.call_id === current),
    onclick: () => show(c.summary.call_id) }, c.summary.caller_number || c.summary.call_id.slice(0, 6))));
}

function onMessage(message) {
  if (message.type === "call_started") {
    calls.set(message.call_id, { summary: { ...message }, events: [] });
    // A new call takes the screen unless the current one is still live.
    if (!current || calls.get(current)?.summary.ended || current === message.call_id) show(message.call_id); else renderTabs();
    return;
  }
  const call = calls.get(message.call_id);
  if (!call) return;
  if (message.type === "interim") {
    const i = call.events.findIndex((e) => e.type === "interim" && e.speaker === message.speaker);
    if (i >= 0) call.events.splice(i, 1);
  }
  call.events.push(message);
  if (message.type === "call_ended") call.summary.ended = true;
  if (message.call_id === current) view.handle(message);
}

const socket = new LiveSocket(`/ws/sidebar?agent=${encodeURIComponent(agent || "")}`, {
  onMessage,
  onStatus: (online, reason) => {
    const status = $("status");
    status.className = `status ${online ? "online" : "offline"}`;
    status.textContent = online ? "live" : (reason || "reconnecting…");
    if (online) { calls.clear(); current = null; }  // the server replays everything on connect
  },
});
setInterval(() => { if (current && calls.get(current) && !calls.get(current).summary.ended) view.renderCaller(); }, 1000);
