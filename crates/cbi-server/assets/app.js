// The cbi web chat: a thin page over the server's /v1 API.
//
// Every value from the server (questions, cells, SQL, explanations) is put on the page as
// text (textContent), never as markup, so a cell holding "<script>" shows as those characters.
'use strict';

const MAX_TABLE_ROWS = 200;
const MAX_SERIES = 8;
const PALETTE = ['#2f6fed', '#12805c', '#b54708', '#7a5af8', '#c11574', '#0e9384', '#667085', '#e04f16'];

const state = {
  token: sessionStorage.getItem('cbi.token') || '',
  // Each page load is a new conversation; the token is kept for the browser tab.
  session: null,
  busy: false,
};

const $ = (sel) => document.querySelector(sel);

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) {
    if (c != null) e.append(c);
  }
  return e;
}

class ApiError extends Error {
  constructor(kind, message) {
    super(message);
    this.kind = kind;
  }
}

function headers(json) {
  const h = { Accept: 'application/json' };
  if (json) h['Content-Type'] = 'application/json';
  if (state.token) h.Authorization = 'Bearer ' + state.token;
  return h;
}

async function failure(res) {
  let kind = 'error';
  let message = res.status + ' ' + res.statusText;
  try {
    const body = await res.json();
    if (body && body.error) {
      kind = body.error.kind;
      message = body.error.message;
    }
  } catch (_) { /* not JSON */ }
  if (res.status === 401) $('#token-form').hidden = false;
  return new ApiError(kind, message);
}

async function api(method, path, body) {
  const res = await fetch(path, {
    method,
    headers: headers(body !== undefined),
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw await failure(res);
  if (res.status === 204) return null;
  return res.json();
}

function setSession(id) {
  state.session = id;
}

function status(text) {
  $('#status').textContent = text || '';
}

// ---- asking -------------------------------------------------------------------------------

const STAGE_WORDS = {
  understood: 'understood the question',
  validated: 'SQL checked',
  rows: 'rows fetched',
  summary: 'summarised',
};

// POSTs to /v1/ask/stream and reads its server-sent events; resolves with the answer.
async function askStreaming(question, fresh = false) {
  const body = { question };
  if (state.session) body.session_id = state.session;
  if (fresh) body.fresh = true;
  const res = await fetch('/v1/ask/stream', {
    method: 'POST',
    headers: headers(true),
    body: JSON.stringify(body),
  });
  if (!res.ok) throw await failure(res);
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      let event = 'message';
      const data = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      }
      if (data.length === 0) continue;
      const payload = JSON.parse(data.join('\n'));
      if (event === 'stage') status(STAGE_WORDS[payload.stage] || payload.stage);
      else if (event === 'answer') return payload;
      else if (event === 'error') throw new ApiError(payload.error.kind, payload.error.message);
    }
  }
  throw new ApiError('unavailable', 'the server closed the answer early');
}

async function ask(question, how) {
  question = question.trim();
  if (!question || state.busy) return;
  state.busy = true;
  $('#ask-button').disabled = true;
  $('#welcome').hidden = true;
  const log = $('#log');
  log.append(el('div', { class: 'question', text: question }));
  const t0 = performance.now();
  status('thinking…');
  try {
    let answer;
    try {
      answer = await how(question);
    } catch (e) {
      // A session that ended (expired, or ended elsewhere) starts over in a new one.
      if (e.kind === 'not_found' && state.session) {
        setSession(null);
        answer = await how(question);
      } else {
        throw e;
      }
    }
    setSession(answer.session_id);
    const card = renderAnswer(answer);
    log.append(card);
    drawChart(card, answer);
    card.dataset.ms = String(Math.round(performance.now() - t0));
    card.scrollIntoView({ block: 'nearest' });
    status('');
  } catch (e) {
    log.append(renderError(e));
    status('');
  } finally {
    state.busy = false;
    $('#ask-button').disabled = false;
    $('#question').focus();
  }
}

// ---- answers ------------------------------------------------------------------------------

function renderError(e) {
  return el('article', { class: 'answer error' },
    el('p', { class: 'summary', text: e.message }),
    el('p', { class: 'tag', text: e.kind || '' }));
}

function badge(answer) {
  const band = answer.confidence_band || 'low';
  return el('span', {
    class: 'badge ' + band,
    title: 'confidence ' + Number(answer.confidence).toFixed(2),
    text: band + ' confidence',
  });
}

function renderAnswer(a) {
  const card = el('article', { class: 'answer', 'data-turn': String(a.turn_id) });
  const head = el('div', { class: 'head' }, badge(a));
  if (a.verified) head.append(el('span', { class: 'tag', text: 'verified answer' }));
  if (a.cached) head.append(el('span', { class: 'tag cached', text: 'from cache' }));
  head.append(el('span', { class: 'tag', text: 'by ' + a.generator }));
  card.append(head);

  if (a.clarification) {
    card.append(el('p', { class: 'summary', text: a.clarification.question }));
    const choices = el('div', { class: 'choices' });
    a.clarification.options.forEach((o, i) => {
      choices.append(el('button', {
        type: 'button',
        text: o.label,
        onclick: () => {
          for (const b of choices.querySelectorAll('button')) b.disabled = true;
          ask(o.label, () => api('POST', '/v1/clarify', { session_id: a.session_id, choice: String(i + 1) }));
        },
      }));
    });
    card.append(choices);
    return card;
  }

  if (a.summary) card.append(el('p', { class: 'summary', text: a.summary }));
  if (a.explanation) card.append(el('p', { class: 'explanation', text: a.explanation }));

  const cols = describeColumns(a.columns, a.rows);
  if (a.rows.length === 1 && a.columns.length === 1) {
    card.append(el('div', { class: 'scalar', text: formatCell(a.rows[0][0], cols[0]) }));
  } else if (a.columns.length > 0) {
    card.append(el('div', { class: 'chart', hidden: '' }, el('canvas')));
    card.append(renderTable(a, cols));
  }
  if (a.truncated) {
    card.append(el('p', { class: 'note', text: 'Only the first ' + a.row_count + ' rows are shown: the result was cut off at the row limit.' }));
  }

  if (a.shown_sql || a.sql) {
    card.append(el('details', { class: 'sql' },
      el('summary', { text: 'SQL' }),
      el('pre', {}, el('code', { text: a.shown_sql || a.sql }))));
  }
  const why = el('ul');
  for (const r of a.reasons || []) why.append(el('li', { text: r }));
  const t = a.timings_ms || {};
  if (t.total !== undefined) why.append(el('li', { text: 'answered in ' + Math.round(t.total) + ' ms' }));
  card.append(el('details', { class: 'why' }, el('summary', { text: 'How this was answered' }), why));

  if (a.sql) {
    const thanks = el('span', { class: 'note' });
    const right = el('button', {
      type: 'button',
      class: 'link feedback',
      text: 'This is right',
      onclick: async () => {
        right.disabled = true;
        try {
          await api('POST', '/v1/feedback', { session_id: a.session_id, turn_id: a.turn_id, correct: true });
          thanks.textContent = 'Thanks — saved as a verified answer.';
        } catch (e) {
          thanks.textContent = e.message;
          right.disabled = false;
        }
      },
    });
    card.append(el('div', { class: 'actions' },
      el('button', { type: 'button', class: 'link', text: 'Export CSV', onclick: () => download(a, 'csv') }),
      el('button', { type: 'button', class: 'link', text: 'Export JSON', onclick: () => download(a, 'json') }),
      el('button', { type: 'button', class: 'link fresh', text: 'Run again', title: 'Work the answer out again and read the database, past the cache', onclick: () => ask(a.question, (q) => askStreaming(q, true)) }),
      right, thanks));
  }
  return card;
}

async function download(a, format) {
  const path = '/v1/sessions/' + encodeURIComponent(a.session_id) + '/export?turn=' + a.turn_id + '&format=' + format;
  try {
    const res = await fetch(path, { headers: headers(false) });
    if (!res.ok) throw await failure(res);
    const url = URL.createObjectURL(await res.blob());
    const link = el('a', { href: url, download: 'cbi-turn' + a.turn_id + '.' + format });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  } catch (e) {
    status(e.message);
  }
}

// ---- columns and numbers ------------------------------------------------------------------

const TIME_NAME = /(^|_|\b)(date|day|week|month|year|quarter|period|time|at)(_|\b|$)/i;
const TIME_VALUE = /^\d{4}(-\d{2}){0,2}([T ]\d{2}:\d{2}.*)?$/;
const SHARE_NAME = /(share|percent|pct|proportion|fraction)/i;

function asNumber(v) {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && /^-?\d+(\.\d+)?(e[+-]?\d+)?$/i.test(v)) return Number(v);
  return null;
}

// What each column holds: numbers (and how many decimals they need), times, or labels.
function describeColumns(names, rows) {
  return names.map((name, i) => {
    const values = rows.map((r) => r[i]).filter((v) => v !== null && v !== undefined);
    const numeric = values.length > 0 && values.every((v) => asNumber(v) !== null);
    const temporal = values.length > 0 && (
      values.every((v) => typeof v === 'string' && TIME_VALUE.test(v)) ||
      (TIME_NAME.test(name) && values.every((v) => typeof v === 'string' || Number.isInteger(asNumber(v)))));
    let decimals = 0;
    if (numeric) {
      const nums = values.map(asNumber);
      if (!nums.every(Number.isInteger)) {
        const biggest = Math.max(...nums.map(Math.abs));
        decimals = biggest < 1 ? 4 : 2;
      }
    }
    const idLike = /(^id$|_id$)/i.test(name);
    return { name, numeric: numeric && !temporal, temporal, decimals, idLike };
  });
}

function formatCell(v, col) {
  if (v === null || v === undefined) return '∅';
  if (col && col.numeric && !col.idLike) {
    const n = asNumber(v);
    return n.toLocaleString(undefined, {
      minimumFractionDigits: col.decimals,
      maximumFractionDigits: col.decimals,
    });
  }
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  return String(v);
}

function renderTable(a, cols) {
  const head = el('tr');
  cols.forEach((c) => head.append(el('th', { class: c.numeric ? 'num' : '', text: c.name })));
  const body = el('tbody');
  for (const row of a.rows.slice(0, MAX_TABLE_ROWS)) {
    const tr = el('tr');
    row.forEach((v, i) => {
      const text = formatCell(v, cols[i]);
      const cls = (v === null ? 'null ' : '') + (cols[i].numeric ? 'num' : '');
      tr.append(el('td', { class: cls.trim() }, el('span', { class: 'cell', title: text, text })));
    });
    body.append(tr);
  }
  const wrap = el('div', { class: 'table-wrap' }, el('table', {}, el('thead', {}, head), body));
  const box = el('div', {}, wrap);
  if (a.rows.length > MAX_TABLE_ROWS) {
    box.append(el('p', { class: 'note', text: 'Showing ' + MAX_TABLE_ROWS + ' of ' + a.rows.length + ' rows; export for all of them.' }));
  }
  return box;
}

// ---- charts -------------------------------------------------------------------------------

// Picks a chart from the result's shape, or none:
//   time + measures            → line (one line per measure)
//   time + label + measure     → line (one line per label)
//   parts of a whole           → stacked bar (one 100% bar)
//   label + label + measure    → stacked bar
//   label + measures           → bar
function chooseChart(names, rows) {
  if (rows.length < 2) return null;
  const cols = describeColumns(names, rows);
  const time = cols.findIndex((c) => c.temporal);
  const measures = cols.map((c, i) => (c.numeric && !c.idLike ? i : -1)).filter((i) => i >= 0);
  const labels = cols.map((c, i) => (!c.numeric && !c.temporal ? i : -1)).filter((i) => i >= 0);
  if (measures.length === 0) return null;
  const num = (r, i) => asNumber(r[i]);

  if (time >= 0 && labels.length === 0) {
    const sorted = [...rows].sort((x, y) => byValue(x[time], y[time]));
    return {
      kind: 'line',
      type: 'line',
      labels: sorted.map((r) => String(r[time])),
      datasets: measures.slice(0, MAX_SERIES).map((m) => ({ label: names[m], data: sorted.map((r) => num(r, m)) })),
    };
  }
  if (time >= 0 && labels.length === 1 && measures.length === 1) {
    const series = pivot(rows, time, labels[0], measures[0]);
    if (series && series.names.length <= MAX_SERIES) {
      return { kind: 'line', type: 'line', labels: series.x, datasets: series.sets };
    }
  }
  if (labels.length === 1 && measures.length === 1 && rows.length <= 12 && isShare(names[measures[0]], rows.map((r) => num(r, measures[0])))) {
    return {
      kind: 'stacked',
      type: 'bar',
      stacked: true,
      horizontal: true,
      labels: [names[measures[0]]],
      datasets: rows.map((r) => ({ label: String(r[labels[0]]), data: [num(r, measures[0])] })),
    };
  }
  if (labels.length === 2 && measures.length === 1) {
    const series = pivot(rows, labels[0], labels[1], measures[0]);
    if (series && series.names.length <= MAX_SERIES && series.x.length <= 30) {
      return { kind: 'stacked', type: 'bar', stacked: true, labels: series.x, datasets: series.sets };
    }
  }
  if (labels.length >= 1 && rows.length <= 50) {
    const l = labels[0];
    return {
      kind: 'bar',
      type: 'bar',
      horizontal: rows.length > 12,
      labels: rows.map((r) => (r[l] === null ? '∅' : String(r[l]))),
      datasets: measures.slice(0, 3).map((m) => ({ label: names[m], data: rows.map((r) => num(r, m)) })),
    };
  }
  return null;
}

// Values that are parts of one whole: named as a share, or non-negative and summing to 1 or 100.
function isShare(name, values) {
  if (values.some((v) => v === null || v < 0)) return false;
  const sum = values.reduce((s, v) => s + v, 0);
  const whole = Math.abs(sum - 100) < 0.5 || Math.abs(sum - 1) < 0.005;
  return whole && (SHARE_NAME.test(name) || values.length >= 2);
}

// Numbers by value (month 2 before month 10), anything else as text.
function byValue(a, b) {
  const x = asNumber(a);
  const y = asNumber(b);
  if (x !== null && y !== null) return x - y;
  return String(a).localeCompare(String(b));
}

// Rows of (x, series, value) as one dataset per series over the sorted x values.
function pivot(rows, x, s, v) {
  const xs = [...new Set(rows.map((r) => String(r[x])))].sort(byValue);
  const names = [...new Set(rows.map((r) => String(r[s])))];
  if (xs.length * names.length > 2000) return null;
  const at = new Map(rows.map((r) => [String(r[x]) + '\u0000' + String(r[s]), asNumber(r[v])]));
  return {
    x: xs,
    names,
    sets: names.map((n) => ({ label: n, data: xs.map((xv) => at.get(xv + '\u0000' + n) ?? null) })),
  };
}

function drawChart(card, a) {
  const box = card.querySelector('.chart');
  if (!box || typeof Chart === 'undefined') return;
  const spec = chooseChart(a.columns, a.rows);
  if (!spec) return;
  box.hidden = false;
  box.dataset.chart = spec.kind;
  const single = spec.datasets.length === 1 && !spec.stacked;
  const datasets = spec.datasets.map((d, i) => ({
    ...d,
    borderColor: PALETTE[i % PALETTE.length],
    backgroundColor: single && spec.type === 'bar'
      ? PALETTE[0]
      : PALETTE[i % PALETTE.length] + (spec.type === 'line' ? '33' : ''),
    tension: 0.2,
    spanGaps: true,
  }));
  const valueAxis = { stacked: !!spec.stacked, beginAtZero: spec.type === 'bar' };
  const categoryAxis = { stacked: !!spec.stacked };
  new Chart(box.querySelector('canvas'), {
    type: spec.type,
    data: { labels: spec.labels, datasets },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      indexAxis: spec.horizontal ? 'y' : 'x',
      plugins: { legend: { display: !single } },
      scales: spec.horizontal ? { x: valueAxis, y: categoryAxis } : { x: categoryAxis, y: valueAxis },
    },
  });
}

// ---- start --------------------------------------------------------------------------------

async function loadWelcome() {
  const box = $('#suggestions');
  box.replaceChildren();
  try {
    const [schema, suggested] = await Promise.all([api('GET', '/v1/schema'), api('GET', '/v1/suggestions')]);
    $('#database').textContent = schema.database + ' · ' + schema.tables.length + ' tables';
    for (const q of suggested.questions) {
      box.append(el('button', { type: 'button', class: 'suggestion', text: q, onclick: () => ask(q, askStreaming) }));
    }
    $('#token-form').hidden = true;
  } catch (e) {
    status(e.message);
  }
}

function newConversation() {
  const old = state.session;
  setSession(null);
  $('#log').replaceChildren();
  $('#welcome').hidden = false;
  if (old) api('DELETE', '/v1/sessions/' + encodeURIComponent(old)).catch(() => {});
  $('#question').focus();
}

document.addEventListener('DOMContentLoaded', () => {
  $('#ask-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const input = $('#question');
    const q = input.value;
    input.value = '';
    ask(q, askStreaming);
  });
  $('#token-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    state.token = $('#token').value.trim();
    sessionStorage.setItem('cbi.token', state.token);
    loadWelcome();
  });
  $('#new-conversation').addEventListener('click', newConversation);
  loadWelcome();
  $('#question').focus();
});
