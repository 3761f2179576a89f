// The supervisor page: every live call with its latest alerts; click one to follow it live.
"use strict";

const $ = (id) => document.getElementById(id);
const wsBase = "/ws/supervisor";
const calls = new Map();  // call_id -> {summary, alerts[]}
let followed = null, followSocket = null;

function render() {
  const body = $("calls");
  if (!calls.size) { body.replaceChildren(el("tr", {}, el("td", { colspan: 5, class: "empty" }, "No live calls."))); return; }
  body.replaceChildren(...[...calls.values()].sort((a, b) => a.summary.started_at - b.summary.started_at).map(({ summary, alerts }) =>
    el("tr", { class: `clickable ${summary.call_id === followed ? "selected" : ""}`, "data-testid": "live-call", onclick: () => follow(summary.call_id) },
      el("td", {}, clock(Date.now() / 1000 - summary.started_at)),
      el("td", {}, summary.agent_id),
      el("td", {}, summary.caller_number || "unknown", summary.caller?.name ? ` · ${summary.caller.name}` : ""),
      el("td", {}, summary.caller?.segment ? el("span", { class: `badge ${String(summary.caller.segment).toLowerCase()}` }, summary.caller.segment) : "—"),
      el("td", {}, alerts.slice(-2).map((a) => el("div", { class: `alert ${a.severity || ""}` }, a.title || a.kind, a.evidence ? el("span", { class: "evidence" }, `“${a.evidence}”`) : null))))));
}

function follow(callId) {
  followed = callId; render();
  if (followSocket) followSocket.close();
  const roots = { caller: $("caller"), alerts: $("alerts"), cards: $("cards"), offers: $("offers"),
    transcript: $("transcript"), alertsPanel: $("alerts-panel"), offersPanel: $("offers-panel") };
  const view = new CallView(roots, { showFeedback: false });
  clearInterval(follow.timer);
  follow.timer = setInterval(() => { if (view.call && !view.call.ended) view.renderCaller(); }, 1000);
  $("follow").hidden = false;
  followSocket = new LiveSocket(`${wsBase}?call=${encodeURIComponent(callId)}`, {
    onMessage: (m) => { if (m.type === "call_started") view.reset({ ...m }); else view.handle(m); },
    onStatus: () => {},
  });
}

new LiveSocket(wsBase, {
  onMessage: (m) => {
    if (m.type === "call_started") calls.set(m.call_id, { summary: m, alerts: [] });
    else if (m.type === "call_ended") calls.delete(m.call_id);
    else if (m.type === "signal" && calls.has(m.call_id)) calls.get(m.call_id).alerts.push(m);
    render();
  },
  onStatus: (online, reason) => {
    $("status").className = `status ${online ? "online" : "offline"}`;
    $("status").textContent = online ? "live" : (reason || "reconnecting…");
    if (online) calls.clear();
  },
});
setInterval(render, 1000);
