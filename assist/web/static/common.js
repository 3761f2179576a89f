// Shared by the sidebar and the supervisor page: a reconnecting websocket and a call view.
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

// Renders one call from the event stream: caller, alerts, cards, offers, transcript.
class CallView {
  constructor(root, { onFeedback, showFeedback = true }) {
    this.root = root; this.onFeedback = onFeedback; this.showFeedback = showFeedback;
    this.lines = new Map(); this.cards = new Map(); this.feedback = new Map();
  }
  reset(call) {
    this.call = call; this.lines.clear(); this.cards.clear(); this.feedback.clear();
    for (const id of ["alerts", "cards", "offers", "transcript"]) this.root[id].replaceChildren();
    this.root.cards.append(el("span", { class: "empty" }, "Answers appear here when the customer asks something the knowledge base covers."));
    this.root.alertsPanel.hidden = true; this.root.offersPanel.hidden = true;
    this.renderCaller();
  }
  renderCaller() {
    const call = this.call, profile = call.caller || {};
    const segment = profile.segment ? el("span", { class: `badge ${String(profile.segment).toLowerCase()}` }, profile.segment) : null;
    const meta = [
      profile.name && el("span", {}, profile.name),
      profile.plan && el("span", {}, `Plan: ${profile.plan}`),
      profile.tenure_years !== undefined && el("span", {}, `Customer ${profile.tenure_years} yr`),
      (profile.flags || []).length > 0 && el("span", {}, profile.flags.join(", ")),
      el("span", { "data-testid": "call-clock" }, call.ended ? `ended (${call.endReason})` : clock(Date.now() / 1000 - call.started_at)),
      el("span", {}, call.platform),
    ];
    this.root.caller.replaceChildren(
      el("div", { class: "number" }, call.caller_number || "Unknown caller", " ", segment),
      el("div", { class: "meta" }, meta),
    );
  }
  handle(message) {
    switch (message.type) {
      case "interim": case "final": return this.transcript(message);
      case "suggestion": return this.card(message, "suggestion");
      case "offer": return this.card(message, "offer");
      case "signal": return this.alert(message);
      case "feedback": return this.markFeedback(message);
      case "handover": case "transferred": return this.handover(message);
      case "paused": return this.notice("Recording paused: nothing is transcribed or stored until it resumes.", "paused");
      case "resumed": return this.notice("Recording resumed.", "resumed");
      case "call_ended": this.call.ended = true; this.call.endReason = message.reason; return this.renderCaller();
    }
  }
  transcript(message) {
    const key = `${message.speaker}:${message.utterance_id}`;
    let line = this.lines.get(key);
    if (!line) {
      line = el("div", { class: `line ${message.speaker}`, dataset: { start: message.start_s } },
        el("span", { class: "who" }, message.speaker), el("span", { class: "text" }));
      this.lines.set(key, line);
      const box = this.root.transcript;
      const after = [...box.children].find((n) => Number(n.dataset.start) > message.start_s);
      const stick = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
      box.insertBefore(line, after || null);
      if (stick) box.scrollTop = box.scrollHeight;
    }
    line.classList.toggle("interim", message.type === "interim");
    line.classList.toggle("final", message.type === "final");
    line.dataset.testid = message.type === "final" ? "final-line" : "interim-line";
    const text = line.querySelector(".text");
    text.replaceChildren(message.text || "…", el("span", { class: "time" }, clock(message.start_s)));
    if (message.type === "final" && !message.text) line.remove();
  }
  card(message, kind) {
    const id = message.card_id;
    const container = kind === "offer" ? this.root.offers : this.root.cards;
    if (kind === "offer") this.root.offersPanel.hidden = false;
    container.querySelector(".empty")?.remove();
    // Only web and mail links become links (the server checks KB files too).
    const safeUrl = message.source && /^(https?:\/\/|mailto:)/i.test(String(message.source.url || ""));
    const source = safeUrl
      ? el("div", { class: "source" }, "Source: ", el("a", { href: message.source.url, target: "_blank", rel: "noopener noreferrer" }, message.source.title || message.source.url))
      : null;
    const buttons = this.showFeedback ? el("div", { class: "actions" },
      ...[["used", "Used", "primary"], ["dismissed", "Dismiss", ""], ["helpful", "Helpful", ""], ["not_helpful", "Not helpful", ""]]
        .map(([action, label, cls]) => el("button", { class: cls, type: "button", "data-action": action, "aria-pressed": "false",
          onclick: () => this.onFeedback && this.onFeedback(this.call.call_id, id, action) }, label))) : null;
    const node = el("article", { class: `card ${kind}`, "data-testid": `${kind}-card`, "data-card-id": id },
      el("h3", {}, el("span", { class: "grow" }, message.title), this.badge(message, kind)),
      el("div", { class: "say" }, message.answer || message.pitch || ""),
      message.trigger && message.trigger.text ? el("div", { class: "why" }, `“${message.trigger.text}”`) : null,
      message.reason ? el("div", { class: "why" }, message.reason) : null,
      source, buttons);
    const old = this.cards.get(id);
    if (old) old.replaceWith(node); else container.prepend(node);
    this.cards.set(id, node);
    const seen = this.feedback.get(id);
    if (seen) for (const action of seen) this.pressed(node, action);
  }
  // The blended match score is not a probability (its no-match line is ~0.45): agents see a
  // plain label, the number stays in the tooltip for QA.
  badge(message, kind) {
    if (kind === "offer") return el("span", { class: "badge gold", title: message.value || "" }, "fits this caller");
    const score = message.confidence || 0;
    const label = score >= 0.7 ? "strong match" : "likely match";
    return el("span", { class: `badge ${score >= 0.7 ? "" : "weak"}`, title: `match score ${score.toFixed(2)}` }, label);
  }
  markFeedback(message) {
    const actions = this.feedback.get(message.card_id) || new Set();
    actions.add(message.action); this.feedback.set(message.card_id, actions);
    const node = this.cards.get(message.card_id);
    if (node) this.pressed(node, message.action);
  }
  pressed(node, action) {
    node.querySelector(`button[data-action="${action}"]`)?.setAttribute("aria-pressed", "true");
    if (action === "used" || action === "dismissed") node.classList.add("done");
  }
  // An earlier leg of this conversation (a transfer) or a repeat caller: what was already said.
  handover(message) {
    this.root.alertsPanel.hidden = false;
    const title = message.type === "transferred" ? `Transferred to ${message.to_agent_id}`
      : message.kind === "transfer" ? "Transferred call: what the customer already told us" : "Called recently";
    this.root.alerts.prepend(el("div", { class: "alert handover", "data-testid": "handover" },
      el("strong", {}, title), el("span", { class: "note" }, message.note || "")));
  }
  notice(text, kind) {
    const box = this.root.transcript;
    box.append(el("div", { class: `notice ${kind}`, "data-testid": `notice-${kind}` }, text));
  }
  alert(message) {
    this.root.alertsPanel.hidden = false;
    const node = el("div", { class: `alert ${message.severity || ""}`, "data-testid": "alert" },
      el("strong", {}, message.title || message.kind), " ", message.message || "",
      message.evidence ? el("span", { class: "evidence" }, `“${message.evidence}”`) : null);
    this.root.alerts.prepend(node);
  }
}
