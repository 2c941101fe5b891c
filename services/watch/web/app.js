// ketenhub watch: polls the JSON API every 2 s and draws the page with
// plain DOM and SVG (no libraries, works offline). Shows counts, codes and
// rules only; the API never sends a child's data.
'use strict';

const POLL_MS = 2000;
const $ = (sel, root = document) => root.querySelector(sel);
const fmt = (n, d = 1) => (n === null || n === undefined || Number.isNaN(n)) ? '–'
  : Number(n).toLocaleString('nl-NL', { maximumFractionDigits: d });
const short = (topic) => topic.replace(/^.*ketenhub\./, '').replace(/\.v1$/, '');

function el(tag, attrs = {}, ...kids) {
  const svg = ['svg', 'g', 'rect', 'text', 'path', 'polyline', 'title'].includes(tag);
  const e = svg ? document.createElementNS('http://www.w3.org/2000/svg', tag) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'text') e.textContent = v; else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const kid of kids) if (kid !== null && kid !== undefined) e.append(kid);
  return e;
}

// A sparkline of an hour: values oldest first, null for no data.
function spark(values) {
  const w = 140, h = 26, vs = (values || []).map((v) => (v === null ? 0 : v));
  const max = Math.max(1e-9, ...vs);
  const pts = vs.map((v, i) => `${(i * w / Math.max(1, vs.length - 1)).toFixed(1)},${(h - 2 - v / max * (h - 4)).toFixed(1)}`);
  return el('svg', { class: 'spark', viewBox: `0 0 ${w} ${h}` },
    el('polyline', { points: pts.join(' ') }), el('title', { text: `max ${fmt(max, 2)}` }));
}

function td(text, cls) { return el('td', cls ? { class: cls, text } : { text }); }
function tdNode(node) { const c = el('td'); c.append(node); return c; }
function badge(s) { return el('span', { class: `badge ${s}`, text: s }); }

// ---- the flow diagram ------------------------------------------------------------------
const LAYOUT = {
  'bron:GEMEENTE': [20, 50, 'gemeenten'], 'bron:SWV': [20, 130, "SWV's"],
  'bron:SCHOOL': [20, 210, 'scholen'], 'bron:AANBIEDER': [20, 290, 'aanbieders'],
  'svc:ingest': [190, 170, 'ingest'], 'svc:route': [560, 170, 'route'], 'svc:push': [880, 170, 'push'],
  'partner:GEMEENTE': [1040, 50, 'gemeenten'], 'partner:SWV': [1040, 130, "SWV's"],
  'partner:SCHOOL': [1040, 210, 'scholen'], 'partner:AANBIEDER': [1040, 290, 'aanbieders'],
};
const TOPIC_PLACES = { aanmelding: [360, 30], tlv: [360, 110], beschikking: [360, 190], verwijzing: [360, 270],
  grensverkeer: [720, 170], deadletter: [720, 300], afleveringen: [1040, 370], 'push.retry': [880, 40] };
const W = 130, H = 36;

function place(id) {
  if (LAYOUT[id]) return LAYOUT[id];
  const name = short(id.replace(/^topic:/, ''));
  const p = TOPIC_PLACES[name];
  return p ? [p[0], p[1], name] : null;
}

// The path of an edge from box a to box b: vertical between boxes in one
// column, an S-curve to the right, and below everything when it skips a
// column (raw events from the event topics past route to push).
function edgePath(a, b) {
  if (Math.abs(a[0] - b[0]) < 10) {
    const up = b[1] < a[1], x = a[0] + W / 2;
    const [y1, y2] = up ? [a[1], b[1] + H] : [a[1] + H, b[1]];
    return { d: `M${x},${y1} L${x},${y2}`, mx: x + 6, my: (y1 + y2) / 2 };
  }
  const [x1, y1, x2, y2] = [a[0] + W, a[1] + H / 2, b[0], b[1] + H / 2];
  if (b[0] - a[0] > 400) {
    const bx = b[0] + W / 2, by = b[1] + H, low = 420;
    return { d: `M${x1},${y1} C${x1 + 60},${low} ${bx},${low} ${bx},${by}`, mx: x1 + 4, my: y1 + 16 };
  }
  const mx = (x1 + x2) / 2;
  return { d: `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}`, mx: mx - 14, my: (y1 + y2) / 2 - 4 };
}

function drawFlow(flow) {
  const svg = $('#flow');
  svg.replaceChildren();
  const nodes = new Set(Object.keys(LAYOUT));
  flow.forEach((e) => { nodes.add(e.from); nodes.add(e.to); });
  const edges = el('g'), boxes = el('g');
  for (const e of flow) {
    const a = place(e.from), b = place(e.to);
    if (!a || !b) continue;
    const { d, mx, my } = edgePath(a, b);
    const idle = e.rate === 0 && e.state === 'ok' ? ' idle' : '';
    const g = el('g', { class: `edge ${e.state}${idle}`, 'data-from': e.from, 'data-to': e.to, 'data-rate': e.rate },
      el('path', { d }), el('title', { text: `${e.from} → ${e.to}: ${fmt(e.rate, 2)}/s ${e.why || ''}` }));
    g.append(el('text', { x: mx, y: my, text: e.rate > 0 ? `${fmt(e.rate, 2)}/s` : '' }));
    edges.append(g);
  }
  for (const id of nodes) {
    const p = place(id);
    if (!p) continue;
    const kind = id.split(':')[0];
    boxes.append(el('g', { class: `node ${kind}`, 'data-node': id },
      el('rect', { x: p[0], y: p[1], width: W, height: H }),
      el('text', { x: p[0] + W / 2, y: p[1] + H / 2, text: p[2] })));
  }
  svg.append(edges, boxes);
}

// ---- tables ---------------------------------------------------------------------------------
function fillRows(tbody, rows) { tbody.replaceChildren(...rows); }

function drawGroups(groups) {
  fillRows($('#groepen tbody'), groups.map((g) => el('tr', { 'data-service': g.service, 'data-status': g.status },
    td(g.service), td(g.group), tdNode(badge(g.status)), td(fmt(g.lag, 0), 'num'),
    td(fmt(g.lag_seconds, 1), 'num'), tdNode(spark(g.spark_lag)))));
}

function drawTopics(topics) {
  fillRows($('#topics tbody'), topics.map((t) => el('tr', { 'data-topic': t.topic },
    td(t.topic), td(String(t.partitions.length), 'num'), td(fmt(t.rate, 2), 'num'),
    td(fmt(t.total, 0), 'num'), tdNode(spark(t.spark)))));
}

function drawFamilies(o) {
  const fams = { type: o.events.type, status: o.events.status, bron: o.events.bron, regels: o.regels,
    deadletters: o.deadletters };
  for (const table of document.querySelectorAll('table.fam')) {
    const list = fams[table.dataset.fam] || [];
    fillRows(table.tBodies[0], list.length ? list.map((f) => el('tr', {},
      td(f.key.replace('|', ' · ')), td(`${fmt(f.rate, 2)}/s`, 'num'), td(fmt(f.total, 0), 'num'), tdNode(spark(f.spark))))
      : [el('tr', {}, td('nog niets gezien'))]);
  }
}

function drawPartners(partners) {
  partners.sort((a, b) => a.partner.localeCompare(b.partner));
  fillRows($('#partners tbody'), partners.map((p) => el('tr', { 'data-partner': p.partner, 'data-state': p.state },
    td(p.partner), td(fmt(p.outcomes.DELIVERED || 0, 0), 'num'), td(fmt(p.outcomes.REJECTED || 0, 0), 'num'),
    td(fmt(p.outcomes.EXPIRED || 0, 0), 'num'), td(fmt(p.outcomes.NO_SUBSCRIPTION || 0, 0), 'num'),
    td(fmt(p.pending || 0, 0), 'num'), td(fmt(p.oldest_pending_seconds, 0), 'num'), tdNode(badge(p.state)))));
}

// ---- dead letters and redrive -------------------------------------------------------------
async function redrive(d) {
  const what = `Dead letter ${d.partition}:${d.offset} (${d.reason_code}) opnieuw aanbieden aan ${d.partner}?\n` +
    'ketenhub-push levert de melding dan opnieuw af, met dezelfde webhook-id.';
  if (!window.confirm(what)) return;
  let operator = sessionStorage.getItem('operator');
  if (!operator) {
    operator = window.prompt('Uw naam (wordt bij de redrive gelogd):', '') || '';
    if (!operator) return;
    sessionStorage.setItem('operator', operator);
  }
  const r = await fetch('/api/v1/deadletters/redrive', { method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ partition: d.partition, offset: d.offset, operator }) });
  const body = await r.json().catch(() => ({}));
  window.alert(r.ok ? `Opnieuw aangeboden aan ${body.redriven}.` : `Mislukt: ${body.detail || r.status}`);
  poll();
}

function drawDeadletters(list) {
  fillRows($('#deadletters tbody'), list.length ? list.map((d) => {
    const action = d.redriven ? td(`opnieuw aangeboden door ${d.redriven.by}`)
      : d.redrivable ? tdNode(el('button', { type: 'button', class: 'redrive', text: 'opnieuw aanbieden', onclick: () => redrive(d) }))
        : td('');
    return el('tr', { 'data-dl': `${d.partition}:${d.offset}`, 'data-reason': d.reason_code },
      td(`${d.partition}:${d.offset}`), td(d.reason_code), td(d.service), td(d.partner || '–'),
      td(`${fmt(d.age_seconds, 0)} s`, 'num'), td(d.origin), action);
  }) : [el('tr', {}, td('geen dead letters'))]);
}

// ---- regional monitoring ------------------------------------------------------------------
// The query of a filter form: its select as is, region codes upper-cased.
function filterQuery(form, select) {
  const f = new FormData(form);
  const q = new URLSearchParams();
  for (const k of [select, 'jeugdregio', 'swv']) {
    const v = (f.get(k) || '').trim();
    if (v) q.set(k, k === select ? v : v.toUpperCase());
  }
  return q.toString();
}

async function drawRegio() {
  const q = filterQuery($('#regio-filter'), 'paar');
  $('#csv').href = `/api/v1/regio.csv?${q}`;
  const t = await (await fetch(`/api/v1/regio?${q}`)).json();
  $('#afronding').textContent = t.afronding;
  const rows = [];
  for (const g of t.groepen) {
    for (const r of g.rijen) rows.push(el('tr', { 'data-regel': g.regel }, td(g.regel), td(g.maand), td(r.a), td(r.b), td(r.aantal, 'num')));
    rows.push(el('tr', { class: 'totaal' }, td(g.regel), td(g.maand), td('totaal'), td(''), td(g.totaal, 'num')));
  }
  fillRows($('#regio-tabel tbody'), rows.length ? rows : [el('tr', {}, td('nog geen grensverkeer'))]);
}

// ---- termijnen (from termijn's state topic) ---------------------------------------------

async function drawTermijnen() {
  const q = filterQuery($('#termijn-filter'), 'indeling');
  $('#termijn-csv').href = `/api/v1/termijnen.csv?${q}`;
  const t = await (await fetch(`/api/v1/termijnen?${q}`)).json();
  $('#termijn-afronding').textContent = `${t.afronding}; verlopen: de eerste vervaldatum ligt op of voor ${t.peildatum} ` +
    '(een gepauzeerde termijn is niet verlopen)';
  const rows = [];
  for (const g of t.regels) {
    for (const r of g.rijen) {
      rows.push(el('tr', { 'data-regel': g.regel }, td(g.regel), td(g.omschrijving), td(r.regio),
        td(r.open, 'num'), td(r.verlopen, 'num')));
    }
    rows.push(el('tr', { class: 'totaal', 'data-regel': g.regel }, td(g.regel), td(g.omschrijving), td('totaal'),
      td(g.open, 'num'), td(g.verlopen, 'num')));
  }
  fillRows($('#termijn-tabel tbody'), rows);
  const n = t.niet_gelezen;
  const skipped = n.json + n.versie + n.vorm + n.onbekende_regel + n.vol;
  $('#termijn-niet-gelezen').textContent = skipped ? `niet gelezen: ${n.json} geen JSON, ${n.versie} onbekende versie, ` +
    `${n.vorm} onbekende vorm, ${n.onbekende_regel} onbekende regel, ${n.vol} geen ruimte` : '';
}

// ---- polling ---------------------------------------------------------------------------------
async function poll() {
  try {
    const [o, dl] = await Promise.all([fetch('/api/v1/overzicht').then((r) => r.json()),
      fetch('/api/v1/deadletters').then((r) => r.json())]);
    drawFlow(o.flow); drawGroups(o.groups); drawTopics(o.topics); drawFamilies(o);
    drawPartners(o.partners); drawDeadletters(dl.deadletters);
    await drawRegio();
    await drawTermijnen();
    $('#status').textContent = `bijgewerkt ${new Date(o.now).toLocaleTimeString('nl-NL')}`;
  } catch (e) {
    $('#status').textContent = `geen verbinding met ketenhub-watch (${e.message})`;
  }
}

$('#regio-filter').addEventListener('input', () => drawRegio());
$('#termijn-filter').addEventListener('input', () => drawTermijnen());
poll();
setInterval(poll, POLL_MS);
