// The agent sidebar: this agent's live call(s), pushed by the server over /ws/sidebar.
"use strict";

const params = new URLSearchParams(location.search);
const agent = params.get("agent");
const $ = (id) => document.getElementById(id);
const calls = new Map();  // call_id -> {summary, events[]}
let current = null;

$("agent").textContent = agent ? `Agent ${agent}` : "";
const view = new CallView($("view"), { onFeedback: (callId, cardId, action) => socket.send({ type: "feedback", call_id: callId, card_id: cardId, action }) });

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
  if (message.type === "call_ended" && message.call_id === current) wrapUp(message.call_id);
}

// After-call work: the proposed summary, disposition and outcome, for the agent to check and save.
const OUTCOME_WORDS = { resolved: "Resolved", follow_up: "Follow-up needed", escalated: "Escalated", unresolved: "Not resolved", abandoned: "Caller hung up" };
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function wrapUp(callId) {
  for (let attempt = 0; attempt < 40 && current === callId; attempt++) {
    try {
      const response = await fetch(`/api/calls/${encodeURIComponent(callId)}/wrapup`, { headers: Auth.headers() });
      if (response.ok) {
        const data = await response.json();
        if (!data.live) { if (current === callId) renderWrapup(data); return; }
      }
    } catch { /* the server is restarting: try again */ }
    await sleep(Math.min(500 * (attempt + 1), 3000));  // the call log is closing the call
  }
}

function renderWrapup(data) {
  const values = data.saved || data.proposed;
  const field = (label, control) => el("label", { class: "field" }, el("span", {}, label), control);
  const summary = el("textarea", { name: "summary", rows: "5", maxlength: "4000", "data-testid": "wrapup-summary" }, values.summary);
  const disposition = el("select", { name: "disposition", "data-testid": "wrapup-disposition" },
    data.dispositions.map((d) => el("option", { value: d.code, selected: d.code === values.disposition },
      d.label, d.code === data.proposed.disposition ? " (suggested)" : "")));
  const outcome = el("select", { name: "outcome", "data-testid": "wrapup-outcome" },
    data.outcomes.map((o) => el("option", { value: o, selected: o === values.outcome }, OUTCOME_WORDS[o] || o)));
  const notes = el("textarea", { name: "notes", rows: "2", maxlength: "2000", placeholder: "Anything the next agent should know" }, values.notes || "");
  const status = el("span", { class: "saved", role: "status", "data-testid": "wrapup-status" }, data.saved ? "Saved ✓" : "");
  const form = el("form", { class: "wrapup-form", "data-testid": "wrapup" },
    el("h2", {}, "After the call"),
    field("Summary", summary),
    el("div", { class: "row" }, field("Wrap-up code", disposition), field("Outcome", outcome)),
    el("div", { class: "why" }, `Suggested from ${data.proposed.why}.`),
    field("Notes", notes),
    el("div", { class: "actions" }, el("button", { type: "submit", class: "primary", "data-testid": "wrapup-save" }, "Save wrap-up"), status));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    status.textContent = "Saving…";
    const body = { summary: summary.value, disposition: disposition.value, outcome: outcome.value, notes: notes.value };
    const response = await fetch(`/api/calls/${encodeURIComponent(data.call_id)}/wrapup`,
      { method: "PUT", headers: { ...Auth.headers(), "Content-Type": "application/json" }, body: JSON.stringify(body) });
    status.textContent = response.ok ? "Saved ✓" : `Not saved (${response.status})`;
  });
  view.zones.answer.replaceChildren(form);
  view.root.classList.add("wrapping-up");  // the call is over: the form gets the room
  view.zones.answer.scrollTop = 0;
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
