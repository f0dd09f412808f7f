namespace MailCluster.Ops;

/// <summary>
/// The ops dashboard (<c>GET /</c> and <c>GET /dashboard</c> on the ops port): one self-contained page, no external
/// assets and no framework. It asks for an API token first and keeps it in the tab's <c>sessionStorage</c> (gone when
/// the tab closes; never a cookie, so no other site can act with it), sending it as <c>Authorization: Bearer</c>. A
/// link may carry it in the fragment (<c>/#token=...&amp;domain=example.com</c>: a fragment never reaches a server); the
/// page stores it and removes it from the address bar. A few lines of script read <c>/healthz/ready</c>,
/// <c>/api/v1/cluster</c> and <c>/metrics</c> every 5 s and show readiness, the members, and the key counters with
/// their rate since the previous refresh; a domain's queue can be listed, and the actions the token's role allows
/// (<c>GET /api/v1/tokens/current</c>) are offered: flush and drain (operate), delete and bounce (admin). Everything
/// it shows comes from those endpoints, so the page holds no state of its own.
/// </summary>
public static class Dashboard
{
    public const string ContentType = "text/html; charset=utf-8";

    /// <summary>The series shown, in order: metric name (summed over its labels), label, and whether a rate is shown.</summary>
    public static IReadOnlyList<(string Metric, string Label, bool Rate)> Series { get; } =
    [
        ("mailcluster_smtp_sessions_open", "SMTP sessions open", false),
        ("mailcluster_smtp_connections_total", "SMTP connections", true),
        ("mailcluster_smtp_connections_refused_total", "Connections refused", true),
        ("mailcluster_smtp_messages_accepted_total", "Messages accepted (250)", true),
        ("mailcluster_acceptance_failures_total", "Acceptance failures (451)", true),
        ("mailcluster_smtp_rejections_total", "Rejections (4xx/5xx)", true),
        ("mailcluster_smtp_received_bytes_total", "Message bytes received", true),
        ("mailcluster_delivery_attempts_total{outcome=\"delivered\"}", "Recipients delivered", true),
        ("mailcluster_delivery_attempts_total{outcome=\"deferred\"}", "Recipients deferred", true),
        ("mailcluster_delivery_attempts_total{outcome=\"bounced\"}", "Recipients bounced", true),
        ("mailcluster_dsn_sent_total", "DSNs sent", true),
        ("mailcluster_outbound_connections_open", "Outbound connections open", false),
        ("mailcluster_queue_messages", "Queued messages (this node)", false),
        ("mailcluster_queue_recipients", "Queued recipients (this node)", false),
        ("mailcluster_shards_hosted", "Shards hosted", false),
        ("mailcluster_domain_queues_hosted", "Domain queues hosted", false),
    ];

    public static string Html { get; } = Build();

    private static string Build()
    {
        var series = string.Join(",\n", Series.Select(s =>
            $"  [{System.Text.Json.JsonSerializer.Serialize(s.Metric)}, {System.Text.Json.JsonSerializer.Serialize(s.Label)}, {(s.Rate ? "true" : "false")}]"));
        return Template.Replace("/*SERIES*/", series, StringComparison.Ordinal);
    }

    private const string Template = """
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>MailCluster node</title>
<style>
 body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
 h1 { font-size: 1.3em; margin: 0 0 .3em; } h2 { font-size: 1.05em; margin: 1.4em 0 .4em; }
 table { border-collapse: collapse; } td, th { padding: .25em .8em; border-bottom: 1px solid #ddd; text-align: left; }
 td.n { text-align: right; font-variant-numeric: tabular-nums; }
 .ok { color: #176f2c; font-weight: 600; } .bad { color: #b00020; font-weight: 600; } .muted { color: #777; }
 button { margin-left: .4em; } #login { margin: 1em 0; padding: .8em; border: 1px solid #ccc; max-width: 40em; }
</style>
</head>
<body>
<h1>MailCluster node</h1>
<form id="login" hidden>
 <label for="token">API token (role read, operate or admin):</label>
 <input id="token" type="password" autocomplete="off" size="50">
 <button type="submit">Use token</button>
 <div id="login-error" class="bad"></div>
</form>
<div id="session" hidden>Token: <span id="who"></span> <button id="forget" type="button">Forget token</button> <span id="node-actions"></span></div>
<div>Readiness: <span id="ready" class="muted">…</span> <span id="reasons" class="muted"></span></div>
<div class="muted">This node: <span id="self">…</span> · leader: <span id="leader">…</span> · refreshed <span id="at">never</span></div>
<h2>Cluster members</h2>
<table><thead><tr><th>Address</th><th>Roles</th><th>Status</th><th>Reachable</th><th>Shards</th><th>Queues</th></tr></thead>
<tbody id="members"><tr><td colspan="6" class="muted">loading…</td></tr></tbody></table>
<h2>Counters (this node)</h2>
<table><thead><tr><th>Series</th><th>Value</th><th>Per second</th></tr></thead><tbody id="counters"></tbody></table>
<h2>Queue of a domain</h2>
<form id="queue-form"><input id="domain" placeholder="example.com" size="30"> <button type="submit">List</button> <span id="queue-actions"></span></form>
<div id="queue-status" class="muted"></div>
<table><thead><tr><th>Id</th><th>Queue</th><th>Sender</th><th>Next attempt</th><th>Recipients</th><th></th></tr></thead><tbody id="queue"></tbody></table>
<p class="muted">Raw data: <a href="/metrics">/metrics</a> · <a href="/healthz/ready">/healthz/ready</a> (the API needs the token: <code>curl -H "Authorization: Bearer $TOKEN" .../api/v1/cluster</code>)</p>
<script>
"use strict";
const SERIES = [
/*SERIES*/
];
const TOKEN_KEY = "mailcluster.token";
const ROLES = ["read", "operate", "admin"];
let previous = null;
let me = null;
function token() { return sessionStorage.getItem(TOKEN_KEY); }
function allowed(role) { return me !== null && ROLES.indexOf(me.role) >= ROLES.indexOf(role); }
function showLogin(message) {
  sessionStorage.removeItem(TOKEN_KEY); me = null;
  document.getElementById("login").hidden = false; document.getElementById("session").hidden = true;
  text("login-error", message || "");
  document.getElementById("members").replaceChildren(); document.getElementById("queue-actions").replaceChildren();
  document.getElementById("node-actions").replaceChildren();
}
async function api(path, options) {
  const t = token();
  if (!t) throw new Error("no token");
  const response = await fetch(path, Object.assign({}, options, { headers: { "Authorization": "Bearer " + t } }));
  if (response.status === 401) { showLogin("The token was refused (unknown or revoked)."); throw new Error("401"); }
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.detail || response.statusText);
  return body;
}
function button(label, onClick) { const b = document.createElement("button"); b.type = "button"; b.textContent = label; b.addEventListener("click", onClick); return b; }
async function act(what, path, options) {
  try { const r = await api(path, options); text("queue-status", what + ": " + JSON.stringify(r)); }
  catch (e) { text("queue-status", what + " failed: " + e.message); }
}
async function signIn() {
  try { me = await api("/api/v1/tokens/current"); } catch (e) { if (token()) showLogin("The token was not accepted: " + e.message); return; }
  document.getElementById("login").hidden = true; document.getElementById("session").hidden = false;
  text("who", me.name + " (" + me.role + ")");
  const node = document.getElementById("node-actions"); node.replaceChildren();
  if (allowed("operate")) node.append(button("Drain this node", () => { if (confirm("Drain this node? It leaves the cluster and exits.")) act("drain", "/api/v1/node/drain", { method: "POST" }); }));
  const queue = document.getElementById("queue-actions"); queue.replaceChildren();
  if (allowed("operate")) queue.append(button("Flush", () => act("flush", "/api/v1/queues/" + encodeURIComponent(document.getElementById("domain").value) + "/flush", { method: "POST" })));
  refresh();
  if (document.getElementById("domain").value) listQueue();
}
async function listQueue() {
  const domain = document.getElementById("domain").value.trim(); const tbody = document.getElementById("queue"); tbody.replaceChildren();
  if (!domain) return;
  try {
    const listing = await api("/api/v1/queues/" + encodeURIComponent(domain) + "?limit=100");
    text("queue-status", listing.total + " messages queued for " + listing.domain);
    for (const m of listing.messages) {
      const row = tbody.insertRow();
      cell(row, m.id); cell(row, m.queue); cell(row, m.sender); cell(row, m.nextAttemptAt || "");
      cell(row, m.recipients.map(r => r.address + " " + r.state + " (" + r.attempts + ")" + (r.lastError ? " " + r.lastError : "")).join("; "));
      const actions = row.insertCell();
      const path = "/api/v1/queues/" + encodeURIComponent(domain) + "/messages/" + encodeURIComponent(m.id);
      if (allowed("admin")) {
        actions.append(button("Delete", () => act("delete " + m.id, path, { method: "DELETE" }).then(listQueue)));
        actions.append(button("Bounce", () => act("bounce " + m.id, path + "/bounce", { method: "POST" }).then(listQueue)));
      }
    }
  } catch (e) { text("queue-status", "listing failed: " + e.message); }
}
function text(id, value, cls) { const e = document.getElementById(id); e.textContent = value; if (cls !== undefined) e.className = cls; }
function cell(row, value, numeric) { const td = row.insertCell(); td.textContent = value; if (numeric) td.className = "n"; }
function parse(body) {
  const values = new Map();
  for (const line of body.split("\n")) {
    if (line === "" || line[0] === "#") continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const v = Number(m[3]);
    values.set(m[1], (values.get(m[1]) || 0) + v);
    for (const [metric] of SERIES) {
      const brace = metric.indexOf("{");
      if (brace > 0 && metric.slice(0, brace) === m[1] && m[2] && m[2].includes(metric.slice(brace + 1, -1)))
        values.set(metric, (values.get(metric) || 0) + v);
    }
  }
  return values;
}
function fmt(v) { return Number.isInteger(v) ? String(v) : v.toFixed(2); }
async function refresh() {
  try {
    const ready = await fetch("/healthz/ready");
    const body = await ready.json();
    text("ready", ready.ok ? "ready" : "NOT READY", ready.ok ? "ok" : "bad");
    text("reasons", body.reasons ? Object.entries(body.reasons).map(([k, v]) => k + ": " + v).join("; ") : "");
  } catch (e) { text("ready", "no answer", "bad"); }
  try {
    const cluster = await api("/api/v1/cluster");
    text("self", cluster.self); text("leader", cluster.leader || "none");
    const hosts = new Map((cluster.shardHosts || []).map(h => [h.address, h]));
    const tbody = document.getElementById("members"); tbody.replaceChildren();
    for (const m of cluster.members) {
      const row = tbody.insertRow(); const h = hosts.get(m.address);
      cell(row, m.address); cell(row, m.roles.join(", ")); cell(row, m.status);
      const r = row.insertCell(); r.textContent = m.reachable ? "yes" : "NO"; r.className = m.reachable ? "ok" : "bad";
      cell(row, h ? h.shards : "", true); cell(row, h ? h.entities : "", true);
    }
  } catch (e) { document.getElementById("members").replaceChildren(); }
  try {
    const now = Date.now(); const values = parse(await (await fetch("/metrics")).text());
    const tbody = document.getElementById("counters"); tbody.replaceChildren();
    for (const [metric, label, rate] of SERIES) {
      const v = values.get(metric) || 0; const row = tbody.insertRow();
      cell(row, label); cell(row, fmt(v), true);
      const before = previous ? previous.values.get(metric) : undefined;
      cell(row, rate && before !== undefined ? fmt(Math.max(0, (v - before) / ((now - previous.at) / 1000))) : "", true);
    }
    previous = { at: now, values };
  } catch (e) { }
  text("at", new Date().toLocaleTimeString());
}
// A token (and a domain) may come in the fragment, which never reaches a server: stored, then removed from the address bar.
const fragment = new URLSearchParams(location.hash.slice(1));
if (fragment.get("token")) sessionStorage.setItem(TOKEN_KEY, fragment.get("token"));
if (fragment.get("domain")) document.getElementById("domain").value = fragment.get("domain");
if (location.hash) history.replaceState(null, "", location.pathname);
document.getElementById("login").addEventListener("submit", e => {
  e.preventDefault(); const t = document.getElementById("token").value.trim();
  if (t) { sessionStorage.setItem(TOKEN_KEY, t); document.getElementById("token").value = ""; signIn(); }
});
document.getElementById("forget").addEventListener("click", () => showLogin(""));
document.getElementById("queue-form").addEventListener("submit", e => { e.preventDefault(); listQueue(); });
if (token()) signIn(); else { showLogin(""); refresh(); }
setInterval(refresh, 5000);
</script>
</body>
</html>
""";
}
