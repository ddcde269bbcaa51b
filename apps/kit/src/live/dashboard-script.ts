/**
 * The dashboard's script, served as `/dashboard/client.js`: plain ES2017 for any current browser,
 * no dependency. It reads `/dashboard/state`, then follows `/events` (Server-Sent Events); the chart
 * is an inline SVG it draws itself. Every text from the server is placed with `textContent`.
 */
export const DASHBOARD_SCRIPT = `(function () {
  'use strict'
  var SVG = 'http://www.w3.org/2000/svg'
  var WIDTH = 600, HEIGHT = 170, LEFT = 34, BOTTOM = 20, TOP = 8
  var model = { history: [], interval: 5000, windowMs: 600000, channels: [], commands: [] }
  var $ = function (id) { return document.getElementById(id) }

  function el(tag, cls, text) {
    var node = document.createElement(tag)
    if (cls) node.className = cls
    if (text !== undefined && text !== null) node.textContent = String(text)
    return node
  }
  function svg(tag, attrs) {
    var node = document.createElementNS(SVG, tag)
    Object.keys(attrs).forEach(function (k) { node.setAttribute(k, String(attrs[k])) })
    return node
  }
  function clock(iso) { return new Date(iso).toLocaleTimeString() }
  function percent(ratio) { return ratio === null || ratio === undefined ? 'n/a' : (Math.round(ratio * 1000) / 10) + '%' }
  function badge(node, text) { node.textContent = text; node.className = 'badge ' + text }

  // ---- chart -----------------------------------------------------------------------------------
  function drawChart() {
    var chart = $('hit-chart')
    while (chart.firstChild) chart.removeChild(chart.firstChild)
    var samples = model.history
    var end = samples.length > 0 ? samples[samples.length - 1].t : Date.now()
    var span = Math.max(model.windowMs, model.interval * 2)
    var start = end - span
    var x = function (t) { return LEFT + ((t - start) / span) * (WIDTH - LEFT - 6) }
    var y = function (r) { return HEIGHT - BOTTOM - r * (HEIGHT - BOTTOM - TOP) }
    ;[0, 0.5, 1].forEach(function (r) {
      chart.appendChild(svg('line', { x1: LEFT, x2: WIDTH - 6, y1: y(r), y2: y(r), class: 'grid' }))
      var label = svg('text', { x: LEFT - 4, y: y(r) + 3, 'text-anchor': 'end', class: 'axis' })
      label.textContent = Math.round(r * 100) + '%'
      chart.appendChild(label)
    })
    var minutes = Math.round(span / 60000)
    var from = svg('text', { x: LEFT, y: HEIGHT - 4, class: 'axis' })
    from.textContent = minutes > 0 ? '-' + minutes + ' min' : '-' + Math.round(span / 1000) + ' s'
    chart.appendChild(from)
    var now = svg('text', { x: WIDTH - 6, y: HEIGHT - 4, 'text-anchor': 'end', class: 'axis' })
    now.textContent = 'now'
    chart.appendChild(now)
    // One polyline per run of intervals that had reads; an interval without reads breaks the line.
    var runs = [], run = []
    samples.forEach(function (s) {
      if (s.hitRate === null) { if (run.length) runs.push(run); run = []; return }
      run.push(x(s.t).toFixed(1) + ',' + y(s.hitRate).toFixed(1))
    })
    if (run.length) runs.push(run)
    runs.forEach(function (points) {
      if (points.length === 1) {
        var xy = points[0].split(',')
        chart.appendChild(svg('circle', { cx: xy[0], cy: xy[1], r: 2.5, class: 'dot' }))
      } else chart.appendChild(svg('polyline', { points: points.join(' '), class: 'rate' }))
    })
    chart.setAttribute('data-samples', String(samples.length))
    var hits = 0, reads = 0, last = null
    samples.forEach(function (s) { hits += s.hits; reads += s.hits + s.misses; if (s.hitRate !== null) last = s.hitRate })
    $('hit-summary').textContent = reads === 0
      ? 'no reads yet in this window (one sample every ' + model.interval / 1000 + ' s)'
      : 'window: ' + percent(hits / reads) + ' of ' + reads + ' reads; latest interval: ' + percent(last)
  }

  // ---- tiers -----------------------------------------------------------------------------------
  function renderHealth(health) {
    if (!health) return
    badge($('status'), health.status)
    var body = $('tiers').tBodies[0]
    while (body.firstChild) body.removeChild(body.firstChild)
    health.tiers.forEach(function (t) {
      var row = el('tr')
      row.appendChild(el('td', '', t.role.toUpperCase()))
      row.appendChild(el('td', '', t.tier))
      var status = el('td'); var b = el('span'); badge(b, t.status); status.appendChild(b); row.appendChild(status)
      var breaker = el('td')
      if (t.breaker) { var bb = el('span'); badge(bb, t.breaker); breaker.appendChild(bb) } else breaker.textContent = '–'
      row.appendChild(breaker)
      row.appendChild(el('td', '', t.latencyMs === undefined || t.latencyMs === null ? '–' : t.latencyMs.toFixed(1) + ' ms'))
      row.appendChild(el('td', 'muted', t.message || ''))
      body.appendChild(row)
    })
  }

  // ---- feed ------------------------------------------------------------------------------------
  function short(value) {
    var text = JSON.stringify(value)
    return text.length > 160 ? text.slice(0, 157) + '...' : text
  }
  function describe(item) {
    switch (item.kind) {
      case 'invalidation':
        var what = item.scope === 'key' ? (item.keys || []).join(', ')
          : item.scope === 'pattern' ? item.pattern
          : item.scope === 'tags' ? 'tags ' + (item.tags || []).join(', ') : 'everything (clear)'
        return what + (item.source === 'bus' ? '  (from another pod)' : '  (this pod)') +
          (typeof item.count === 'number' ? ', ' + item.count + ' removed' : '')
      case 'event': return short(item.message)
      case 'control': return item.command + ' (sent by ' + item.by + ') ' + (item.ok ? 'ran here' : 'failed here: ' + item.error)
      case 'gap': return 'subscription was lost and is back: messages on ' + (item.channels || []).join(', ') + ' may be missing (' + item.reason + ')'
      case 'dropped': return 'message refused on ' + (item.channel || '?') + ': ' + item.reason
      case 'bus': return 'invalidation bus ' + item.state + (item.reason ? ': ' + item.reason : '')
      case 'breaker': return item.tier + ' circuit ' + item.previous + ' -> ' + item.state
      default: return short(item)
    }
  }
  function addFeed(item) {
    var list = $('feed-list')
    var li = el('li', item.kind)
    li.setAttribute('data-kind', item.kind)
    if (item.channel) li.setAttribute('data-channel', item.channel)
    li.appendChild(el('span', 'muted', clock(item.at) + ' '))
    li.appendChild(el('span', 'kind', item.kind === 'event' ? item.channel : item.kind))
    li.appendChild(document.createTextNode(' ' + describe(item)))
    list.insertBefore(li, list.firstChild)
    while (list.children.length > 100) list.removeChild(list.lastChild)
  }

  // ---- app state and admin ---------------------------------------------------------------------
  function renderState(state) {
    var box = $('app-state')
    while (box.firstChild) box.removeChild(box.firstChild)
    Object.keys(state || {}).forEach(function (key) {
      var dl = el('dl'); dl.id = 'state-' + key
      var value = state[key]
      Object.keys(value || {}).forEach(function (field) {
        dl.appendChild(el('dt', '', key + '.' + field))
        var dd = el('dd', '', typeof value[field] === 'object' ? JSON.stringify(value[field]) : value[field])
        dd.setAttribute('data-field', key + '.' + field)
        dl.appendChild(dd)
      })
      box.appendChild(dl)
    })
  }
  function say(text, ok) {
    var node = $('admin-message')
    node.textContent = text
    node.className = ok ? 'ok' : 'error'
  }
  function refusal(status, body) {
    var code = body && body.code
    if (code === 'E_ADMIN_TOKEN_MISSING') return 'Type the admin token first: admin actions need it.'
    if (code === 'E_ADMIN_TOKEN_WRONG' || status === 403)
      return 'Invalid admin token: this pod refused it (HTTP ' + status + '). Check CACHE_ADMIN_TOKEN.'
    if (code === 'E_ADMIN_DISABLED') return 'Admin actions are disabled on this pod: it has no CACHE_ADMIN_TOKEN.'
    if (status === 429) return 'Too many admin requests: wait a moment and try again.'
    return (body && body.message) || ('HTTP ' + status)
  }
  function admin(path, body, done) {
    var token = $('token').value.trim()
    var headers = { 'content-type': 'application/json' }
    if (token) headers.authorization = 'Bearer ' + token
    say('sending...', true)
    fetch(path, { method: 'POST', headers: headers, body: JSON.stringify(body || {}) })
      .then(function (response) {
        return response.json().catch(function () { return null }).then(function (json) {
          if (response.ok) say(done(json), true)
          else say(refusal(response.status, json), false)
        })
      })
      .catch(function (error) { say('Request failed: ' + error.message, false) })
  }
  function renderControls(commands) {
    var box = $('controls')
    while (box.firstChild) box.removeChild(box.firstChild)
    commands.forEach(function (command) {
      var button = el('button', 'secondary', command)
      button.type = 'button'
      button.setAttribute('data-command', command)
      button.addEventListener('click', function () {
        admin('/admin/control', { command: command }, function () { return command + ' sent to every pod' })
      })
      box.appendChild(button)
    })
  }
  $('invalidate').addEventListener('click', function () {
    var pattern = $('pattern').value.trim()
    admin('/admin/invalidate', { pattern: pattern }, function (r) { return 'Invalidated ' + r.pattern + ': ' + r.deleted_count + ' removed' })
  })
  $('clear').addEventListener('click', function () {
    admin('/admin/clear', {}, function () { return 'Cache cleared on every pod' })
  })

  // ---- state and live stream -------------------------------------------------------------------
  function load() {
    return fetch('/dashboard/state').then(function (r) { return r.json() }).then(function (s) {
      model.history = s.history
      model.interval = s.sampleIntervalMs
      model.windowMs = s.windowMs
      model.channels = s.channels
      model.commands = s.commands
      $('pod').textContent = s.pod
      document.title = s.app + ' · ' + s.pod + ' · Strata live view'
      renderHealth(s.health)
      renderState(s.state)
      renderControls(s.commands)
      var list = $('feed-list')
      while (list.firstChild) list.removeChild(list.firstChild)
      s.feed.forEach(addFeed)
      drawChart()
    })
  }
  var everOpen = false
  function follow() {
    var source = new EventSource('/events')
    source.addEventListener('open', function () { badge($('stream'), 'live') })
    source.addEventListener('error', function () { badge($('stream'), 'reconnecting') })
    // After a reconnect, what was sent meanwhile is lost: read the state again.
    source.addEventListener('hello', function () { if (everOpen) load(); everOpen = true })
    source.addEventListener('feed', function (e) { addFeed(JSON.parse(e.data)) })
    source.addEventListener('health', function (e) { renderHealth(JSON.parse(e.data)) })
    source.addEventListener('state', function (e) { renderState(JSON.parse(e.data)) })
    source.addEventListener('stats', function (e) {
      model.history.push(JSON.parse(e.data))
      var keep = Math.ceil(model.windowMs / model.interval)
      while (model.history.length > keep) model.history.shift()
      drawChart()
    })
  }
  load().then(follow, function (error) { say('Could not load the state: ' + error.message, false); follow() })
})()
`
