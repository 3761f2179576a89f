// The retention worklist: customers at risk ranked by risk × value, why, their calls, and what was done.
"use strict";

const $ = (id) => document.getElementById(id);
const PAGE = 25;
let offset = 0;

const api = (path, options = {}) => apiFetch(path, options, "worklist");

function when(epoch) { return epoch ? new Date(epoch * 1000).toLocaleString() : "—"; }
function risk(score) { return el("span", { class: `score ${score >= 0.75 ? "low" : ""}` }, `${Math.round(score * 100)}%`); }
function why(reasons) { return reasons.slice(0, 2).map((r) => r.note).join("; ") || "—"; }

function params() {
  const form = new FormData($("filters"));
  const query = new URLSearchParams({ limit: PAGE, offset });
  for (const [key, value] of form.entries()) if (value) query.set(key, value);
  return query;
}

async function loadList() {
  const page = await (await api(`/api/retention?${params()}`)).json();
  const rows = page.customers.map((c) => el("tr", {
    class: "clickable", "data-testid": "customer-row", tabindex: "0",
    onclick: () => { location.hash = `customer=${encodeURIComponent(c.caller_number)}`; },
    onkeydown: (e) => { if (e.key === "Enter") location.hash = `customer=${encodeURIComponent(c.caller_number)}`; },
  },
    el("td", {}, el("strong", {}, c.name || "unknown"), el("br"), c.caller_number),
    el("td", {}, c.segment || "—"),
    el("td", {}, risk(c.score)),
    el("td", { "data-testid": "why" }, why(c.reasons)),
    el("td", {}, when(c.last_call_at)),
    el("td", {}, c.calls),
    el("td", {}, c.status)));
  $("customers").replaceChildren(...(rows.length ? rows : [el("tr", {}, el("td", { colspan: 7, class: "empty" }, "No customer at risk matches."))]));
  $("page").textContent = page.total ? `${offset + 1}–${offset + page.customers.length} of ${page.total}` : "0 customers";
  $("prev").disabled = offset === 0;
  $("next").disabled = page.next_offset === null;
}

async function loadCustomer(number) {
  const c = await (await api(`/api/retention/${encodeURIComponent(number)}`)).json();
  $("customer-name").textContent = `${c.name || "unknown"} (${c.caller_number})`;
  $("customer-line").textContent = `${c.segment || "unknown segment"} · risk ${Math.round(c.score * 100)}% · value ${c.value} · ${c.status}`
    + (c.note ? ` · “${c.note}”` : "");
  $("reasons").replaceChildren(...c.reasons.map((r) => el("li", { "data-testid": "reason" }, el("strong", {}, r.note),
    ...(r.evidence || []).slice(0, 3).map((e) => el("div", { class: "evidence" },
      e.start_s !== undefined ? `${clock(e.start_s)} ${e.speaker}: “${e.text}”` : `earlier call: ${e.text || e.call_id}`)))));
  $("timeline").replaceChildren(...c.timeline.map((call) => el("tr", { "data-testid": "timeline-row" },
    el("td", {}, when(call.started_at)), el("td", {}, (call.intents || []).join(", ") || "—"),
    el("td", {}, call.outcome || "—"), el("td", {}, call.risk === null ? "—" : `${Math.round(call.risk * 100)}%`),
    el("td", {}, call.summary || ""))));
  $("outcome").onsubmit = async (event) => {
    event.preventDefault();
    const form = new FormData($("outcome"));
    await api(`/api/retention/${encodeURIComponent(number)}`, {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ status: form.get("status"), note: form.get("note") || "" }),
    });
    $("saved").textContent = `Saved: ${form.get("status")}`;
  };
}

async function route() {
  const match = location.hash.match(/customer=([^&]+)/);
  $("list-view").hidden = Boolean(match);
  $("customer-view").hidden = !match;
  if (match) await loadCustomer(decodeURIComponent(match[1]));
  else await loadList();
}

$("filters").onsubmit = (event) => { event.preventDefault(); offset = 0; loadList(); };
$("prev").onclick = () => { offset = Math.max(0, offset - PAGE); loadList(); };
$("next").onclick = () => { offset += PAGE; loadList(); };
$("back").onclick = (event) => { event.preventDefault(); location.hash = ""; };
$("export").onclick = async () => {
  const query = params(); query.set("format", "csv"); query.set("limit", "500"); query.delete("offset");
  const blob = await (await api(`/api/retention?${query}`)).blob();
  const link = el("a", { href: URL.createObjectURL(blob), download: "retention.csv" });
  document.body.append(link); link.click(); link.remove();
};
window.addEventListener("hashchange", route);
route();
