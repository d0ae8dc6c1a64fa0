// The web page of `strata serve`: pick a report, fill in its typed parameters, start exports and
// follow them to the download. It talks only to the same-origin JSON API (docs/api.md), with the
// key in the Authorization header. Every value that comes from the server reaches the page as text
// (textContent, attributes), never as HTML. No inline script or style: the server's
// Content-Security-Policy is default-src 'self'.
'use strict';

const API = 'api/v1/';
const POLL_MS = 700;        // while an export is queued or running
const IDLE_POLL_MS = 10000; // otherwise, to show exports started elsewhere (another tab, the API)
const RETRY_MS = 3000;
const KEY_STORAGE = 'strata.key';
const REPORT_STORAGE = 'strata.report';
const ACTIVE = new Set(['queued', 'running']);
const STATE_LABELS = {
  queued: 'Queued', running: 'Running', done: 'Done', failed: 'Failed', cancelled: 'Cancelled',
};

const $ = (selector) => document.querySelector(selector);

const page = {
  key: '',
  catalog: null,       // the answer of GET reports: {tenant_param, tenant, reports}
  generation: 0,       // bumped when the key changes: answers to older requests are dropped
  listSeq: 0,          // sequence of list requests: an older answer never overwrites a newer one
  listShown: 0,
  pollTimer: null,
  rows: new Map(),     // export id -> the row's elements
};

// ---------------------------------------------------------------------------------------------
// Small helpers

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === 'className') e.className = value;
    else if (name === 'text') e.textContent = value;
    else e.setAttribute(name, value === true ? '' : String(value));
  }
  e.append(...children);  // strings become text nodes
  return e;
}

const numberFormat = new Intl.NumberFormat();
const fmtCount = (n) => numberFormat.format(Math.round(Number(n) || 0));

function fmtBytes(n) {
  n = Number(n) || 0;
  if (n < 1000) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let i = -1;
  do { n /= 1000; i++; } while (n >= 1000 && i < units.length - 1);
  return `${n.toFixed(n < 10 ? 2 : 1)} ${units[i]}`;
}

function fmtDuration(seconds) {
  const exact = Math.max(0, Number(seconds) || 0);
  if (exact < 1) return 'under a second';
  const s = Math.round(exact);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  const m = Math.round(s / 60);
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

function fmtTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : d.toLocaleString();
}

class ApiError extends Error {
  constructor(status, message, field = null) {
    super(message);
    this.status = status;
    this.field = field;
  }
}

// ---------------------------------------------------------------------------------------------
// Messages and invalid fields

function showMessage(text, kind = 'info') {
  const m = $('#message');
  m.textContent = text;
  m.dataset.kind = kind;
  m.setAttribute('aria-live', kind === 'error' ? 'assertive' : 'polite');
  m.hidden = false;
}

function clearMessage() {
  const m = $('#message');
  m.hidden = true;
  m.textContent = '';
  delete m.dataset.kind;
}

function markInvalid(element) {
  if (!element) return;
  element.classList.add('invalid');
  element.setAttribute('aria-invalid', 'true');
  const described = (element.getAttribute('aria-describedby') || '').split(' ').filter(Boolean);
  if (!described.includes('message')) element.setAttribute('aria-describedby', [...described, 'message'].join(' '));
  element.focus();
}

function clearInvalid(element) {
  element.classList.remove('invalid');
  element.removeAttribute('aria-invalid');
  const described = (element.getAttribute('aria-describedby') || '').split(' ').filter((id) => id && id !== 'message');
  if (described.length) element.setAttribute('aria-describedby', described.join(' '));
  else element.removeAttribute('aria-describedby');
}

function clearAllInvalid() {
  document.querySelectorAll('.invalid').forEach(clearInvalid);
}

// The element an error's `field` names: "report", "format", "params" or "params.<name>".
function fieldElement(field) {
  if (!field) return null;
  if (field === 'report') return $('#report');
  if (field === 'format') return $('#format');
  if (field === 'params') return $('#params');
  if (field.startsWith('params.')) {
    const name = field.slice('params.'.length);
    return [...document.querySelectorAll('#params [data-param]')].find((e) => e.dataset.param === name) || null;
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// The API

function authHeaders() {
  return { Authorization: `Bearer ${page.key}` };
}

async function readError(response) {
  let data = null;
  try { data = await response.json(); } catch { /* not JSON: fall back to the status line */ }
  const message = data && typeof data.error === 'string' && data.error
    ? data.error : `${response.status} ${response.statusText || 'error'}`.trim();
  const field = data && typeof data.field === 'string' ? data.field : null;
  return new ApiError(response.status, message, field);
}

async function api(method, path, body) {
  const generation = page.generation;
  const init = { method, headers: { ...authHeaders(), Accept: 'application/json' }, cache: 'no-store' };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(API + path, init);
  } catch {
    throw new ApiError(0, 'The server cannot be reached. Is strata serve still running?');
  }
  if (generation !== page.generation) throw new ApiError(-1, 'stale');  // the key changed meanwhile
  if (response.ok) return response.json();
  const error = await readError(response);
  if (error.status === 401) onUnauthorized();
  throw error;
}

function onUnauthorized() {
  stopPolling();
  page.catalog = null;
  renderCatalog();
  renderExports([]);
  $('#refresh').disabled = true;
  sessionStorage.removeItem(KEY_STORAGE);
  $('#key-status').textContent = 'No valid key.';
  $('#key-help').hidden = false;
  showMessage('This API key was not accepted (401 Unauthorized). Enter a valid API key.', 'error');
  markInvalid($('#key'));
}

// ---------------------------------------------------------------------------------------------
// The key

async function useKey(key) {
  page.generation++;
  page.key = key;
  page.catalog = null;
  stopPolling();
  clearMessage();
  clearAllInvalid();
  renderCatalog();
  renderExports([]);
  $('#watch-panel').hidden = true;
  if (!key) {
    $('#key-help').hidden = false;
    $('#key-status').textContent = 'The key is kept in this tab only (session storage).';
    $('#refresh').disabled = true;
    return;
  }
  sessionStorage.setItem(KEY_STORAGE, key);
  $('#key-status').textContent = 'Checking the key…';
  let catalog;
  try {
    catalog = await api('GET', 'reports');
  } catch (e) {
    if (e.status !== 401 && e.status !== -1) {
      $('#key-status').textContent = '';
      showMessage(e.message, 'error');
    }
    return;
  }
  page.catalog = catalog;
  $('#key-help').hidden = true;
  $('#key-status').textContent = catalog.tenant === null || catalog.tenant === undefined
    ? 'Service key: name the tenant of each export.'
    : `Tenant key: exports for tenant ${catalog.tenant}.`;
  $('#refresh').disabled = false;
  renderCatalog();
  const service = catalog.tenant === null || catalog.tenant === undefined;
  $('#watch-panel').hidden = !service;
  if (service) refreshWatch();
  await refreshExports();
}

function onKeySubmit(event) {
  event.preventDefault();
  const input = $('#key');
  const key = input.value.trim();
  clearInvalid(input);
  if (!key) {
    showMessage('Enter an API key.', 'error');
    markInvalid(input);
    return;
  }
  // A header value must be visible ASCII; anything else cannot be a Strata key.
  if (!/^[\x21-\x7e]+$/.test(key)) {
    showMessage('That is not an API key: a key has no spaces or special characters.', 'error');
    markInvalid(input);
    return;
  }
  useKey(key);
}

function onKeyForget() {
  sessionStorage.removeItem(KEY_STORAGE);
  $('#key').value = '';
  useKey('');
  $('#key').focus();
}

// ---------------------------------------------------------------------------------------------
// Reports and their parameter form

function reportByName(name) {
  return page.catalog?.reports?.find((r) => r.name === name) || null;
}

function isTenantParam(param) {
  return param.tenant === true || (param.tenant === undefined && param.name === page.catalog?.tenant_param);
}

function tenantOfKey() {
  const t = page.catalog?.tenant;
  return t === null || t === undefined ? null : String(t);
}

function renderCatalog() {
  const select = $('#report');
  select.replaceChildren();
  const reports = page.catalog?.reports || [];
  for (const r of reports) {
    select.append(el('option', { value: r.name, text: r.title && r.title !== r.name ? `${r.title} (${r.name})` : r.name }));
  }
  const remembered = sessionStorage.getItem(REPORT_STORAGE);
  if (remembered && reports.some((r) => r.name === remembered)) select.value = remembered;
  select.disabled = reports.length === 0;
  $('#start').disabled = reports.length === 0;
  renderParams();
}

function inputFor(param) {
  switch (param.type) {
    case 'date': return el('input', { type: 'date' });
    case 'int': case 'integer': case 'bigint': return el('input', { type: 'number', step: '1', inputmode: 'numeric' });
    case 'numeric': case 'decimal': return el('input', { type: 'number', step: 'any', inputmode: 'decimal' });
    case 'bool': case 'boolean': return el('input', { type: 'checkbox' });
    case 'timestamp': case 'timestamptz': return el('input', { type: 'datetime-local', step: '1' });
    default: return el('input', { type: 'text', spellcheck: 'false' });
  }
}

function parseBool(v) {
  if (typeof v === 'boolean') return v;
  return /^(true|t|yes|y|on|1)$/i.test(String(v).trim());
}

const pad = (n) => String(n).padStart(2, '0');

// A timestamp as <input type=datetime-local> wants it: YYYY-MM-DDTHH:MM:SS, local time.
function toLocalInput(value, withZone) {
  const s = String(value).trim();
  const m = s.match(/^(\d{4}-\d{2}-\d{2})(?:[ T](\d{2}:\d{2})(:\d{2})?(?:\.\d+)?)?(Z|[+-]\d{2}(?::?\d{2})?)?$/);
  if (!m) return '';
  if (withZone && m[4]) {
    const d = new Date(`${m[1]}T${m[2] || '00:00'}${m[3] || ':00'}${m[4] === 'Z' ? 'Z' : m[4]}`);
    if (Number.isNaN(d.getTime())) return '';
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  }
  return `${m[1]}T${m[2] || '00:00'}${m[3] || ':00'}`;
}

// A datetime-local value with this browser's UTC offset, for timestamptz parameters.
function withLocalZone(value) {
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return value;
  const offset = -d.getTimezoneOffset();
  const sign = offset >= 0 ? '+' : '-';
  return `${value}${sign}${pad(Math.floor(Math.abs(offset) / 60))}:${pad(Math.abs(offset) % 60)}`;
}

function renderParams() {
  const box = $('#params');
  const legend = box.querySelector('legend');
  box.replaceChildren(legend);
  const report = reportByName($('#report').value);
  if (!report) {
    box.append(el('p', { className: 'hint', text: page.catalog ? 'There are no reports.' : 'Enter a key to see the reports.' }));
    return;
  }
  sessionStorage.setItem(REPORT_STORAGE, report.name);
  if (!report.params?.length) {
    box.append(el('p', { className: 'hint', text: 'This report has no parameters.' }));
    return;
  }
  report.params.forEach((param, i) => {
    const id = `param-${i}`;
    const input = inputFor(param);
    input.id = id;
    input.name = param.name;
    input.dataset.param = param.name;
    input.dataset.type = param.type;
    const hint = el('span', { className: 'hint', id: `${id}-hint` });
    input.setAttribute('aria-describedby', hint.id);
    const hasDefault = param.default !== null && param.default !== undefined;
    input.dataset.required = String(Boolean(param.required) && !hasDefault);

    if (isTenantParam(param) && tenantOfKey() !== null) {
      input.value = tenantOfKey();
      input.readOnly = true;
      input.dataset.required = 'false';
      hint.textContent = 'Set by your key.';
    } else if (isTenantParam(param)) {
      input.required = true;
      input.dataset.required = 'true';
      hint.textContent = 'Required: the tenant to export for.';
    } else {
      if (input.dataset.required === 'true') input.required = true;
      if (hasDefault) {
        if (input.type === 'checkbox') input.checked = parseBool(param.default);
        else if (input.type === 'datetime-local') input.value = toLocalInput(param.default, param.type === 'timestamptz');
        else input.value = String(param.default);
        hint.textContent = `Default: ${param.default}`;
      } else {
        hint.textContent = input.required ? 'Required.' : 'Optional.';
      }
    }
    input.addEventListener('input', () => clearInvalid(input));
    input.addEventListener('change', () => clearInvalid(input));

    const label = el('label', { for: id }, el('span', { className: 'param-name', text: param.name }), ' ',
      el('span', { className: 'param-type', text: param.type }));
    const row = input.type === 'checkbox'
      ? el('div', { className: 'field check' }, input, label, hint)
      : el('div', { className: 'field' }, label, input, hint);
    box.append(row);
  });
}

class FormError extends Error {
  constructor(message, field) {
    super(message);
    this.field = field;
  }
}

// The form's values as the API's params: strings (numbers too, so bigints keep every digit) and
// booleans. An empty optional field is left out so the server applies its default.
function collectParams() {
  const params = {};
  for (const input of document.querySelectorAll('#params [data-param]')) {
    const name = input.dataset.param;
    if (input.type === 'checkbox') {
      params[name] = input.checked;
      continue;
    }
    if (input.validity.badInput) throw new FormError(`params.${name}: that is not a valid ${input.dataset.type}`, `params.${name}`);
    let value = input.dataset.type === 'text' ? input.value : input.value.trim();
    if (value === '') {
      if (input.dataset.required === 'true') throw new FormError(`params.${name}: required`, `params.${name}`);
      continue;
    }
    if (input.type === 'datetime-local') {
      if (input.dataset.type === 'timestamptz') value = withLocalZone(value);
      value = value.replace('T', ' ');
    }
    params[name] = value;
  }
  return params;
}

async function onStart(event) {
  event.preventDefault();
  clearMessage();
  clearAllInvalid();
  const report = $('#report').value;
  const format = $('#format').value;
  let params;
  try {
    params = collectParams();
  } catch (e) {
    showMessage(e.message, 'error');
    markInvalid(fieldElement(e.field));
    return;
  }
  const start = $('#start');
  start.disabled = true;
  try {
    const created = await api('POST', 'exports', { report, params, format });
    const title = reportByName(report)?.title || report;
    showMessage(created.deduplicated
      ? `The same export of ${title} is already ${created.state}: following that one.`
      : `Export of ${title} started.`, 'ok');
    page.listShown = ++page.listSeq;  // a list asked for before this export must not hide it
    renderExports([created], { merge: true });
    page.rows.get(created.id)?.tr.classList.add('fresh');
    await refreshExports();
  } catch (e) {
    if (e.status === 401 || e.status === -1) return;
    showMessage(e.message, 'error');
    markInvalid(fieldElement(e.field));
  } finally {
    start.disabled = !page.catalog;
  }
}

// ---------------------------------------------------------------------------------------------
// The list of exports

function stopPolling() {
  clearTimeout(page.pollTimer);
  page.pollTimer = null;
}

function schedulePoll(ms) {
  stopPolling();
  page.pollTimer = setTimeout(refreshExports, ms);
}

async function refreshExports() {
  if (!page.catalog) return;
  stopPolling();
  const seq = ++page.listSeq;
  let answer;
  try {
    answer = await api('GET', 'exports?limit=100');
  } catch (e) {
    if (e.status === 401 || e.status === -1) return;
    showMessage(`The list of exports could not be loaded: ${e.message}`, 'error');
    if ([...page.rows.values()].some((r) => ACTIVE.has(r.state))) schedulePoll(RETRY_MS);
    return;
  }
  if (seq < page.listShown) return;
  page.listShown = seq;
  const list = Array.isArray(answer?.exports) ? answer.exports : [];
  renderExports(list);
  schedulePoll(list.some((x) => ACTIVE.has(x.state)) ? POLL_MS : IDLE_POLL_MS);
}

// The export's parameters as `name = value` items, each kept on one line.
function paramsSummary(params) {
  if (!params || typeof params !== 'object') return [];
  const items = [];
  for (const [name, value] of Object.entries(params)) {
    if (items.length) items.push(', ');
    items.push(el('span', { className: 'param', text: `${name} = ${value}` }));
  }
  return items;
}

function createRow(id) {
  const r = {};
  r.tr = el('tr', { 'data-export-id': id });
  r.report = el('span', { className: 'report-name' });
  r.format = el('span', { className: 'format' });
  r.params = el('td', { className: 'summary' });
  r.badge = el('span', { className: 'badge' });
  r.attempt = el('span', { className: 'attempt' });
  r.fallback = el('span', { className: 'badge fallback', hidden: true }, 'last good version');
  r.stateCell = el('td', { className: 'state' }, r.badge, r.attempt, ' ', r.fallback);
  r.bar = el('progress', { className: 'bar' });
  r.rows = el('span', { className: 'rows' });
  r.detail = el('span', { className: 'detail' });
  r.error = el('p', { className: 'error' });
  r.bytes = el('td', { className: 'bytes' });
  r.created = el('time', { className: 'created' });
  r.download = el('a', { className: 'download button', href: '#' }, 'Download');
  r.cancel = el('button', { type: 'button', className: 'cancel secondary' }, 'Cancel');
  r.download.addEventListener('click', (event) => {
    event.preventDefault();
    downloadFile(r);
  });
  r.cancel.addEventListener('click', () => cancelExport(r));
  r.tr.append(
    el('td', { className: 'report' }, r.report, ' ', r.format),
    r.params,
    r.stateCell,
    el('td', { className: 'progress' }, r.bar, el('div', { className: 'counts' }, r.rows, r.detail), r.error),
    r.bytes,
    el('td', {}, r.created),
    el('td', { className: 'actions' }, r.download, r.cancel),
  );
  r.id = id;
  return r;
}

function updateRow(r, x) {
  r.export = x;
  r.state = x.state;
  const active = ACTIVE.has(x.state);
  r.tr.dataset.state = x.state;
  r.stateCell.dataset.state = x.state;
  r.badge.textContent = x.state === 'running' && x.cancel_requested === true
    ? 'Cancelling' : STATE_LABELS[x.state] || String(x.state);
  r.attempt.textContent = Number(x.attempt) > 1 ? ` (attempt ${x.attempt})` : '';
  r.fallback.hidden = x.fallback !== true;
  r.fallback.title = x.fallback === true
    ? `The watch ran the last good version (${x.version}) of this report for this tenant` : '';

  const report = reportByName(x.report);
  r.report.textContent = report?.title || x.report;
  r.report.title = x.report;
  r.format.textContent = x.format ? `.${x.format}` : '';
  r.params.replaceChildren(...paramsSummary(x.params));

  const rows = Number(x.rows) || 0;
  const expected = Number(x.expected_rows) > 0 ? Number(x.expected_rows) : null;
  r.bar.hidden = x.state !== 'running';
  r.bar.setAttribute('aria-label', `Rows written for ${x.report}`);
  if (x.state === 'running' && expected) {
    r.bar.max = expected;
    r.bar.value = Math.min(rows, expected);
    r.bar.classList.remove('indeterminate');
    r.rows.textContent = `${fmtCount(rows)} of about ${fmtCount(expected)} rows`;
  } else {
    r.bar.removeAttribute('value');  // an indeterminate (animated) bar
    r.bar.classList.add('indeterminate');
    r.rows.textContent = x.state === 'queued' ? 'Waiting to start' : `${fmtCount(rows)} rows`;
  }
  const detail = [];
  if (x.state === 'running') {
    if (Number(x.rows_per_second) > 0) detail.push(`${fmtCount(x.rows_per_second)} rows/s`);
    if (x.eta_seconds !== null && x.eta_seconds !== undefined) detail.push(`about ${fmtDuration(x.eta_seconds)} left`);
  } else if (x.state === 'done' && Number(x.elapsed_seconds) > 0) {
    detail.push(`in ${fmtDuration(x.elapsed_seconds)}`);
  }
  r.detail.textContent = detail.length ? ` · ${detail.join(' · ')}` : '';

  const showError = x.error && (x.state === 'failed' || (active && Number(x.attempt) > 1));
  r.error.textContent = showError ? (x.state === 'failed' ? x.error : `Retrying: ${x.error}`) : '';
  r.error.hidden = !showError;

  r.bytes.textContent = x.state === 'queued' ? '' : fmtBytes(x.bytes);
  r.created.textContent = fmtTime(x.created_at);
  if (x.created_at) r.created.dateTime = x.created_at;

  // Only a path on this server: the link is fetched with the key.
  const downloadable = x.state === 'done' && typeof x.download === 'string' && /^\/[^/\\]/.test(x.download);
  r.download.hidden = !downloadable;
  if (downloadable) {
    r.download.href = x.download;
    r.download.dataset.fileName = x.file_name || '';
    r.download.setAttribute('aria-label', `Download ${x.file_name || x.report}`);
  } else {
    r.download.href = '#';
  }
  if (x.state === 'done' && (!downloadable || x.expired === true)) r.detail.textContent += ' · file expired';
  r.cancel.hidden = !active;
  r.cancel.setAttribute('aria-label', `Cancel the export of ${x.report}`);
}

// Shows `list` (newest first). With merge, rows not in `list` are kept (a single new export).
function renderExports(list, { merge = false } = {}) {
  const body = $('#exports-body');
  if (!merge) {
    const keep = new Set(list.map((x) => x.id));
    for (const [id, r] of page.rows) {
      if (!keep.has(id)) {
        r.tr.remove();
        page.rows.delete(id);
      }
    }
  }
  list.forEach((x, i) => {
    if (!x || typeof x.id !== 'string') return;
    let r = page.rows.get(x.id);
    if (!r) {
      r = createRow(x.id);
      page.rows.set(x.id, r);
    }
    updateRow(r, x);
    const at = merge ? 0 : i;
    if (body.children[at] !== r.tr) body.insertBefore(r.tr, body.children[at] || null);
  });
  const empty = page.rows.size === 0;
  $('#exports').hidden = empty;
  $('#exports-empty').hidden = !empty;
  $('#exports-empty').textContent = page.catalog ? 'No exports yet.' : 'Enter a key to see your exports.';
}

async function cancelExport(r) {
  r.cancel.disabled = true;
  try {
    const x = await api('DELETE', `exports/${encodeURIComponent(r.id)}`);
    if (x && x.id === r.id) updateRow(r, x);
    showMessage(`Export of ${r.export?.report || 'the report'} cancelled.`, 'info');
  } catch (e) {
    if (e.status === 401 || e.status === -1) return;
    showMessage(e.status === 409 ? `Too late to cancel: ${e.message}` : e.message, 'error');
  } finally {
    r.cancel.disabled = false;
  }
  refreshExports();
}

function fileNameFromDisposition(header) {
  if (!header) return '';
  const star = header.match(/filename\*\s*=\s*UTF-8''([^;]+)/i);
  if (star) {
    try { return decodeURIComponent(star[1].trim()); } catch { /* fall through */ }
  }
  const plain = header.match(/filename\s*=\s*"([^"]*)"/i) || header.match(/filename\s*=\s*([^;]+)/i);
  return plain ? plain[1].trim() : '';
}

// The file needs the Authorization header, which a plain link cannot send: fetch it, then hand the
// browser the bytes through an object URL. (The file is held in memory while it is saved.)
async function downloadFile(r) {
  const link = r.download;
  if (link.getAttribute('aria-busy') === 'true') return;
  const url = link.getAttribute('href');
  link.setAttribute('aria-busy', 'true');
  link.classList.add('busy');
  try {
    let response;
    try {
      response = await fetch(url, { headers: authHeaders(), cache: 'no-store' });
    } catch {
      showMessage('The server cannot be reached. Is strata serve still running?', 'error');
      return;
    }
    if (!response.ok) {
      const error = await readError(response);
      if (error.status === 401) onUnauthorized();
      else if (error.status === 410) showMessage(`This file has expired: ${error.message}`, 'error');
      else showMessage(error.message, 'error');
      refreshExports();
      return;
    }
    const blob = await response.blob();
    const name = link.dataset.fileName || fileNameFromDisposition(response.headers.get('Content-Disposition')) || 'export';
    const objectUrl = URL.createObjectURL(blob);
    const save = el('a', { href: objectUrl, download: name, hidden: true });
    document.body.append(save);
    save.click();
    save.remove();
    setTimeout(() => URL.revokeObjectURL(objectUrl), 60_000);
  } finally {
    link.removeAttribute('aria-busy');
    link.classList.remove('busy');
  }
}

// ---------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------
// The watch (service keys): the ledger of GET /api/v1/watch, with a Release button per fallback

const WATCH_LABELS = {
  regressed: 'Regressed', fallback: 'Fallback', reverted: 'Reverted', released: 'Released',
};

async function refreshWatch() {
  let answer;
  try {
    answer = await api('GET', 'watch');
  } catch (e) {
    if (e.status === 401 || e.status === -1) return;
    if (e.status === 403) {
      $('#watch-panel').hidden = true;
      return;
    }
    showMessage(`The watch could not be loaded: ${e.message}`, 'error');
    return;
  }
  const entries = Array.isArray(answer?.entries) ? answer.entries : [];
  $('#watch-body').replaceChildren(...entries.map(watchRow));
  $('#watch-empty').hidden = entries.length > 0;
}

function watchRow(e) {
  const report = reportByName(e.report);
  const state = e.state === 'fallback' && e.verified === true ? 'Fallback, verified' : WATCH_LABELS[e.state] || e.state;
  const ratio = e.ratio === null || e.ratio === undefined ? 'fails' : `${Number(e.ratio).toFixed(1)}×`;
  const actions = el('td', { className: 'actions' });
  if (e.state === 'fallback' || e.state === 'regressed') {
    const button = el('button', { type: 'button', class: 'secondary' }, 'Release');
    button.addEventListener('click', () => releaseWatch(e, button));
    actions.append(button);
  }
  return el('tr', { 'data-state': e.state },
    el('td', { title: e.report }, report?.title || e.report),
    el('td', {}, String(e.tenant)),
    el('td', { className: 'state', 'data-state': e.state },
      el('span', { className: 'badge' }, state),
      el('div', { className: 'hint' }, String(e.reason || ''))),
    el('td', {}, `${ratio} over ${e.runs} runs`),
    el('td', { className: 'summary' }, `now ${e.current_version}, good ${e.good_version}`),
    el('td', {}, fmtTime(e.since)),
    actions);
}

async function releaseWatch(e, button) {
  button.disabled = true;
  try {
    await api('POST', 'watch/release', { report: e.report, tenant: e.tenant });
    showMessage(`Released: tenant ${e.tenant} runs the current version of ${e.report} again.`);
  } catch (error) {
    if (error.status !== 401 && error.status !== -1) showMessage(error.message, 'error');
  }
  await refreshWatch();
}

function init() {
  $('#key-form').addEventListener('submit', onKeySubmit);
  $('#key-forget').addEventListener('click', onKeyForget);
  $('#key').addEventListener('input', () => clearInvalid($('#key')));
  $('#report').addEventListener('change', () => {
    clearMessage();
    clearAllInvalid();
    renderParams();
  });
  $('#format').addEventListener('change', () => clearInvalid($('#format')));
  $('#export-form').addEventListener('submit', onStart);
  $('#refresh').addEventListener('click', refreshExports);
  $('#watch-refresh').addEventListener('click', refreshWatch);
  renderExports([]);
  const saved = sessionStorage.getItem(KEY_STORAGE);
  if (saved) {
    $('#key').value = saved;
    useKey(saved);
  } else {
    $('#key').focus();
  }
}

init();
