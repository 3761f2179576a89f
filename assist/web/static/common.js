// Shared by the pages: elements, the credential, API calls, a reconnecting websocket and a call view.
"use strict";

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// An HTTP API call with the page's credential; the #status badge says whether it answered
// (``label`` when it did, the server's reason when not, and then it throws).
async function apiFetch(path, options = {}, label = "") {
  const response = await fetch(path, { ...options, headers: { ...Auth.headers(), ...(options.headers || {}) } });
  const status = document.getElementById("status");
  if (!response.ok) {
    let reason = response.statusText;
    try { reason = (await response.json()).error || reason; } catch { /* not JSON */ }
    status.className = "status offline"; status.textContent = reason;
    throw new Error(reason);
  }
  status.className = "status online"; status.textContent = label;
  return response;
}

function clock(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

// The page's credential. A sign-in link carries the token in its #fragment, which browsers never
// send to a server (so it is in no log); the page keeps it for this tab and cleans the address
// bar. Websockets open with a single-use ticket bought with the token, never the token itself.
const Auth = (() => {
  const key = `assist-token:${location.pathname}`;
  const fragment = new URLSearchParams(location.hash.slice(1));
  if (fragment.has("token")) {
    sessionStorage.setItem(key, fragment.get("token"));
    fragment.delete("token");
    const rest = fragment.toString();
    history.replaceState(null, "", location.pathname + location.search + (rest ? `#${rest}` : ""));
  }
  const token = () => sessionStorage.getItem(key) || "";
  const headers = () => ({ Authorization: `Bearer ${token()}` });
  async function socketUrl(path) {
    const response = await fetch("/api/ticket", { method: "POST", headers: headers() });
    if (response.status === 401) {
      const error = new Error("Not signed in: open the sign-in link again");
      error.auth = true;
      throw error;
    }
    if (!response.ok) throw new Error(`server answered ${response.status}`);
    const { ticket } = await response.json();
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    return `${scheme}://${location.host}${path}${path.includes("?") ? "&" : "?"}ticket=${encodeURIComponent(ticket)}`;
  }
  return { token, headers, socketUrl };
})();

// A websocket that reconnects with back-off; the server replays the call so far on connect.
class LiveSocket {
  constructor(path, { onMessage, onStatus }) {
    this.path = path; this.onMessage = onMessage; this.onStatus = onStatus;
    this.delayMs = 500; this.closed = false; this.connect();
  }
  retry() {
    setTimeout(() => this.connect(), this.delayMs);
    this.delayMs = Math.min(this.delayMs * 2, 10000);
  }
  async connect() {
    let url;
    try { url = await Auth.socketUrl(this.path); } catch (error) {
      this.onStatus(false, error.auth ? error.message : "reconnecting…");
      if (!error.auth && !this.closed) this.retry();
      return;
    }
    if (this.closed) return;
    this.ws = new WebSocket(url);
    this.ws.onopen = () => { this.delayMs = 500; this.onStatus(true); };
    this.ws.onmessage = (event) => {
      let message;
      try { message = JSON.parse(event.data); } catch { return; }
      this.onMessage(message);
    };
    this.ws.onclose = (event) => {
      this.onStatus(false, event.reason);
      if (this.closed || event.code === 1008) return;  // 1008: bad or expired token; retrying will not help
      this.retry();
    };
  }
  close() { this.closed = true; if (this.ws) this.ws.close(); }
  send(message) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) { this.ws.send(JSON.stringify(message)); return true; }
    return false;
  }
}

// One call as the agent sees it, in a layout that never jumps: caller (with mood and topic) →
// the pinned answer with the offer that fits → alerts → transcript. Each zone has a fixed
// height and scrolls inside itself, so nothing above moves when something below changes.
const ACTIONS = [["used", "Used it"], ["not_helpful", "Not useful"]];
const MOOD_WORDS = { calm: "Calm", uneasy: "Uneasy", upset: "Upset" };

class CallView {
  constructor(container, { onFeedback, showFeedback = true } = {}) {
    this.onFeedback = onFeedback; this.showFeedback = showFeedback;
    this.zones = {
      caller: el("section", { class: "cv-caller", "data-testid": "caller", "aria-label": "Caller" }),
      // Zones that scroll inside themselves are focusable: a keyboard can scroll them too.
      answer: el("section", { class: "cv-answer", "data-testid": "answer-zone", "aria-label": "Suggested answer", tabindex: "0" }),
      alerts: el("section", { class: "cv-alerts", "data-testid": "alerts", "aria-label": "Alerts", "aria-live": "polite", tabindex: "0" }),
      transcript: el("section", { class: "cv-transcript", "data-testid": "transcript", "aria-label": "Transcript" }),
    };
    this.pinnedBox = el("div", { class: "cv-pinned", "data-testid": "pinned" });
    this.offerBox = el("div", { class: "cv-offer", "data-testid": "offer-slot" });
    this.alsoBox = el("div", { class: "cv-also", "data-testid": "also" });
    this.zones.answer.append(this.pinnedBox, this.offerBox, this.alsoBox);
    this.lines = el("div", { class: "cv-lines", role: "log", "aria-label": "Transcript lines", tabindex: "0" });
    this.latest = el("button", { type: "button", class: "cv-latest", hidden: true, onclick: () => this.scrollToLatest() }, "↓ Latest");
    this.zones.transcript.append(this.lines, this.latest);
    this.lines.addEventListener("scroll", () => { this.latest.hidden = this.atBottom(); });
    this.root = el("div", { class: "callview" }, Object.values(this.zones));
    container.replaceChildren(this.root);
    this.reset(null);
  }
  reset(call) {
    this.root.classList.remove("wrapping-up");
    this.call = call; this.byLine = new Map(); this.cards = new Map(); this.feedback = new Map();
    this.pinned = null; this.mood = null; this.alertCount = 0;
    this.lines.replaceChildren(); this.alsoBox.replaceChildren(); this.offerBox.replaceChildren();
    this.zones.alerts.replaceChildren(el("span", { class: "empty" }, "No alerts."));
    this.pinnedBox.replaceChildren(el("span", { class: "empty" }, call ? "The answer appears here when the customer asks something the knowledge base covers." : "Waiting for a call…"));
    this.renderCaller();
  }
  renderCaller() {
    const call = this.call;
    if (!call) { this.zones.caller.replaceChildren(el("span", { class: "empty" }, "Waiting for a call…")); return; }
    const p = call.caller || {};
    const segment = p.segment ? el("span", { class: `badge ${String(p.segment).toLowerCase()}` }, p.segment) : null;
    const mood = this.mood || { label: "calm", direction: 0 };
    const arrow = mood.direction > 0 ? " ↘ worse" : mood.direction < 0 ? " ↗ better" : "";
    const facts = [
      p.plan && `${p.plan}`,
      p.monthly_spend !== undefined && p.monthly_spend !== null && p.monthly_spend !== "" && `$${p.monthly_spend}/mo`,
      p.tenure_years !== undefined && `${p.tenure_years} yr customer`,
      p.account_status && p.account_status !== "active" && `account ${p.account_status}`,
    ].filter(Boolean);
    const issues = [...(p.flags || []).map((f) => String(f).replaceAll("_", " "))];
    this.zones.caller.replaceChildren(
      el("div", { class: "cv-who" },
        el("span", { class: "name" }, p.name || call.caller_number || "Unknown caller"), segment,
        el("span", { class: "grow" }),
        el("span", { class: `mood ${mood.label}`, "data-testid": "mood", title: mood.trend ? `customer sentiment over the call: ${mood.trend.join(", ")}` : "customer sentiment" },
          MOOD_WORDS[mood.label] || mood.label, arrow)),
      el("div", { class: "meta" }, p.name && call.caller_number ? el("span", {}, call.caller_number) : null,
        facts.map((f) => el("span", {}, f)),
        el("span", { "data-testid": "call-clock" }, call.ended ? `ended (${call.endReason})` : clock(Date.now() / 1000 - call.started_at))),
      el("div", { class: "notes", title: p.notes || "" }, issues.length ? el("strong", {}, `${issues.join(", ")} · `) : null, p.notes || ""),
      el("div", { class: "topic", "data-testid": "topic" }, "Topic: ", this.pinned ? this.pinned.title : (mood.intent || "—")));
  }
  handle(message) {
    switch (message.type) {
      case "interim": case "final": return this.transcript(message);
      case "suggestion": return this.suggestion(message);
      case "offer": return this.offer(message);
      case "signal": return this.alert(message);
      case "mood": this.mood = message; return this.renderCaller();
      case "feedback": return this.markFeedback(message);
      case "handover": case "transferred": return this.handover(message);
      case "coaching": return this.alertNode(el("div", { class: "alert coaching", "data-testid": "coaching", role: "status" },
        el("strong", {}, "From your supervisor: "), message.text));
      case "paused": return this.notice("Recording paused: nothing is transcribed or stored until it resumes.", "paused");
      case "resumed": return this.notice("Recording resumed.", "resumed");
      case "call_ended": this.call.ended = true; this.call.endReason = message.reason; return this.renderCaller();
    }
  }
  atBottom() { const box = this.lines; return box.scrollHeight - box.scrollTop - box.clientHeight < 40; }
  scrollToLatest() { this.lines.scrollTop = this.lines.scrollHeight; this.latest.hidden = true; }
  transcript(message) {
    const key = `${message.speaker}:${message.utterance_id}`;
    let line = this.byLine.get(key);
    const stick = this.atBottom();
    if (!line) {
      line = el("div", { class: `line ${message.speaker}`, dataset: { start: message.start_s } },
        el("span", { class: "who" }, message.speaker === "customer" ? "Customer" : "Agent"), el("span", { class: "text" }));
      this.byLine.set(key, line);
      const after = [...this.lines.children].find((n) => Number(n.dataset.start) > message.start_s);
      this.lines.insertBefore(line, after || null);
    }
    line.classList.toggle("interim", message.type === "interim");
    line.classList.toggle("final", message.type === "final");
    line.dataset.testid = message.type === "final" ? "final-line" : "interim-line";
    line.querySelector(".text").replaceChildren(message.text || "…", el("span", { class: "time" }, clock(message.start_s)));
    if (message.type === "final" && !message.text) line.remove();
    if (stick) this.scrollToLatest(); else this.latest.hidden = false;
  }
  // Only web and mail links become links (the server checks KB files too).
  source(message) {
    const safe = message.source && /^(https?:\/\/|mailto:)/i.test(String(message.source.url || ""));
    return safe ? el("div", { class: "source" }, "Source: ", el("a", { href: message.source.url, target: "_blank", rel: "noopener noreferrer" }, message.source.title || message.source.url)) : null;
  }
  buttons(id) {
    if (!this.showFeedback) return null;
    return el("div", { class: "actions" }, ACTIONS.map(([action, label]) => el("button", {
      type: "button", class: `fb ${action}`, "data-action": action, "aria-pressed": "false",
      onclick: () => this.onFeedback && this.onFeedback(this.call.call_id, id, action) }, label)));
  }
  cardNode(message, kind) {
    const node = el("article", { class: `card ${kind}`, "data-testid": `${kind}-card`, "data-card-id": message.card_id },
      el("h3", {}, el("span", { class: "grow" }, message.title), this.badge(message, kind)),
      el("div", { class: "say" }, message.answer || message.pitch || ""),
      message.trigger && message.trigger.text ? el("div", { class: "why" }, `Customer: “${message.trigger.text}”`) : null,
      message.reason ? el("div", { class: "why" }, message.reason) : null,
      this.source(message), this.buttons(message.card_id));
    for (const action of this.feedback.get(message.card_id) || []) this.pressed(node, action);
    return node;
  }
  // An earlier or weaker card: one line; opening it shows the answer in place.
  alsoLine(message, kind) {
    this.alsoBox.querySelector(`[data-card-id="${CSS.escape(message.card_id)}"]`)?.remove();
    const line = el("details", { class: `also ${kind}`, "data-card-id": message.card_id, "data-testid": "also-line" },
      el("summary", {}, kind === "offer" ? "Offer: " : "Also: ", message.title),
      el("div", { class: "say" }, message.answer || message.pitch || ""), this.source(message));
    this.alsoBox.append(line);  // appended: nothing already on screen moves
  }
  suggestion(message) {
    this.cards.set(message.card_id, message);
    const pins = message.pinned === true || (message.pinned === undefined && !this.pinned);
    if (!pins) { if (!this.pinned || this.pinned.card_id !== message.card_id) this.alsoLine(message, "suggestion"); return; }
    if (this.pinned && this.pinned.card_id !== message.card_id) this.alsoLine(this.pinned, "suggestion");
    this.alsoBox.querySelector(`[data-card-id="${CSS.escape(message.card_id)}"]`)?.remove();
    this.pinned = message;
    this.pinnedBox.replaceChildren(this.cardNode(message, "suggestion"));
    this.renderCaller();
  }
  offer(message) {
    const current = this.offerBox.firstElementChild;
    if (current && current.dataset.cardId !== message.card_id) this.alsoLine(this.cards.get(current.dataset.cardId), "offer");
    this.cards.set(message.card_id, message);
    this.offerBox.replaceChildren(this.cardNode(message, "offer"));
  }
  // The blended match score is not a probability (its no-match line is ~0.45): agents see a
  // plain label, the number stays in the tooltip for QA.
  badge(message, kind) {
    if (kind === "offer") return el("span", { class: "badge gold", title: message.value || "" }, "fits this caller");
    const score = message.confidence || 0;
    return el("span", { class: `badge ${score >= 0.7 ? "" : "weak"}`, title: `match score ${score.toFixed(2)}` }, score >= 0.7 ? "strong match" : "likely match");
  }
  markFeedback(message) {
    const actions = this.feedback.get(message.card_id) || new Set();
    actions.add(message.action); this.feedback.set(message.card_id, actions);
    const node = this.root.querySelector(`article[data-card-id="${CSS.escape(message.card_id)}"]`);
    if (node) this.pressed(node, message.action);
    if (this.pinned && this.pinned.card_id === message.card_id && (message.action === "not_helpful" || message.action === "dismissed")) {
      this.alsoLine(this.pinned, "suggestion");
      this.pinned = null;
      this.pinnedBox.replaceChildren(el("span", { class: "empty" }, "Marked not useful. The next good answer appears here."));
      this.renderCaller();
    }
  }
  pressed(node, action) {
    node.querySelector(`button[data-action="${action}"]`)?.setAttribute("aria-pressed", "true");
    if (action === "used") node.classList.add("used");
  }
  // Appended and scrolled into view: the newest alert shows, and none already shown moves.
  alertNode(node) {
    if (!this.alertCount++) this.zones.alerts.replaceChildren();
    this.zones.alerts.append(node);
    this.zones.alerts.scrollTop = this.zones.alerts.scrollHeight;
  }
  // An earlier leg of this conversation (a transfer) or a repeat caller: what was already said.
  handover(message) {
    const title = message.type === "transferred" ? `Transferred to ${message.to_agent_id}`
      : message.kind === "transfer" ? "Transferred call: what the customer already told us" : "Called recently";
    this.alertNode(el("div", { class: "alert handover", "data-testid": "handover" }, el("strong", {}, title), el("span", { class: "note" }, message.note || "")));
  }
  notice(text, kind) {
    this.lines.append(el("div", { class: `notice ${kind}`, "data-testid": `notice-${kind}` }, text));
  }
  alert(message) {
    this.alertNode(el("div", { class: `alert ${message.severity || ""}`, "data-testid": "alert" },
      el("strong", {}, message.title || message.kind), " ", message.message || "",
      message.evidence ? el("span", { class: "evidence" }, `“${message.evidence}”`) : null));
  }
}
