/** `&`, `<`, `>`, `"` and `'` as entities, for text placed in HTML. */
function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

/**
 * The dashboard's HTML: a static shell the script (`/dashboard/client.js`) fills from
 * `/dashboard/state` and keeps current from `/events`. No build step, no external asset.
 */
export function dashboardPage(appName: string): string {
  const name = escapeHtml(appName)
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${name} · Strata live view</title>
<style>
  :root { --fg: #1d2430; --muted: #687386; --line: #d9dee7; --bg: #f6f7f9; --card: #fff;
    --up: #1f8a4c; --down: #c2362f; --warn: #b7791f; --accent: #2f6fdb; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
  header { display: flex; gap: 12px; align-items: baseline; flex-wrap: wrap; padding: 14px 20px; background: var(--card); border-bottom: 1px solid var(--line); }
  header h1 { font-size: 18px; margin: 0; }
  .muted { color: var(--muted); }
  main { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 16px; padding: 16px 20px; }
  section { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; min-width: 0; }
  section h2 { font-size: 13px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); margin: 0 0 8px; }
  .badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600; color: #fff; background: var(--muted); }
  .up, .closed, .live { background: var(--up); } .down, .open { background: var(--down); } .degraded, .half-open, .reconnecting { background: var(--warn); }
  table { width: 100%; border-collapse: collapse; }
  td, th { text-align: left; padding: 4px 6px; border-bottom: 1px solid var(--line); vertical-align: top; }
  th { font-weight: 600; color: var(--muted); font-size: 12px; }
  svg { width: 100%; height: auto; display: block; }
  .grid { stroke: var(--line); stroke-width: 1; } .axis { fill: var(--muted); font-size: 10px; }
  .rate { fill: none; stroke: var(--accent); stroke-width: 2; } .dot { fill: var(--accent); }
  #feed-list { list-style: none; margin: 0; padding: 0; max-height: 360px; overflow: auto; font-family: ui-monospace, monospace; font-size: 12px; }
  #feed-list li { padding: 3px 0; border-bottom: 1px dashed var(--line); overflow-wrap: anywhere; }
  #feed-list .kind { display: inline-block; min-width: 92px; font-weight: 600; }
  #feed-list .event .kind { color: var(--accent); } #feed-list .gap .kind, #feed-list .dropped .kind { color: var(--warn); }
  label { display: block; margin: 6px 0; } input { font: inherit; padding: 4px 6px; border: 1px solid var(--line); border-radius: 4px; width: 100%; }
  button { font: inherit; padding: 5px 12px; margin: 6px 6px 0 0; border: 1px solid var(--accent); border-radius: 4px; background: var(--accent); color: #fff; cursor: pointer; }
  button.secondary { background: #fff; color: var(--accent); }
  #admin-message { min-height: 1.5em; margin: 8px 0 0; } #admin-message.error { color: var(--down); font-weight: 600; } #admin-message.ok { color: var(--up); }
  dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 0; } dt { color: var(--muted); } dd { margin: 0; }
</style>
</head>
<body>
<header>
  <h1>${name}</h1>
  <span class="muted">pod <strong id="pod">…</strong></span>
  <span>cache <span id="status" class="badge">…</span></span>
  <span>events <span id="stream" class="badge">connecting</span></span>
</header>
<main>
  <section id="chart-card">
    <h2>Hit rate, last minutes (this pod)</h2>
    <svg id="hit-chart" viewBox="0 0 600 170" role="img" aria-label="hit rate over time"></svg>
    <p id="hit-summary" class="muted">waiting for samples…</p>
  </section>
  <section>
    <h2>Tiers</h2>
    <table id="tiers"><thead><tr><th>role</th><th>tier</th><th>status</th><th>breaker</th><th>latency</th><th>note</th></tr></thead><tbody></tbody></table>
  </section>
  <section id="feed-card">
    <h2>Latest invalidations and events (any pod)</h2>
    <ol id="feed-list"></ol>
  </section>
  <section id="admin-card">
    <h2>Admin</h2>
    <div id="app-state"></div>
    <label>Admin token (sent as <code>Authorization: Bearer</code>)
      <input id="token" type="password" autocomplete="off" placeholder="CACHE_ADMIN_TOKEN"></label>
    <label>Pattern <input id="pattern" value="*" spellcheck="false"></label>
    <button id="invalidate" type="button">Invalidate pattern</button>
    <button id="clear" type="button" class="secondary">Clear cache</button>
    <div id="controls"></div>
    <p id="admin-message" role="status" aria-live="polite"></p>
  </section>
</main>
<script src="/dashboard/client.js"></script>
</body>
</html>
`
}
