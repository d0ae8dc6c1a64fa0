// End-to-end test of the web page of `strata serve`, in a real browser: Debian's Chromium driven by
// playwright-core (which never downloads a browser of its own).
//
// It copies the example project to a temporary folder, generates a small database there with
// `strata generate`, adds a tenant key and a service key to its strata.toml, starts
// `strata serve` on a free port and then uses the page as a person would: a wrong key, a tenant
// key (the tenant field is locked to the key's tenant), exports to .xlsx and .csv followed to the
// download, a service key with a bad parameter value (the server's 400 highlights the field), and
// cancelling a queued and a running export.
//
//   cd tests/browser && npm ci && STRATA_BIN=../../build/src/strata node test_web.mjs
//
// Environment: STRATA_BIN (required) the strata binary; STRATA_CHROMIUM (default /usr/bin/chromium);
// STRATA_TEST_SCALE (default 0.2) the generated database's scale; STRATA_TEST_HEADED=1 to watch.
// Exit code 0 when every step passed, 1 otherwise; on failure the temporary folder is kept with a
// screenshot and the server's log.

import { spawn, execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { chromium } from 'playwright-core';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const EXAMPLE = path.resolve(HERE, '../../examples/admin-reports');
const STRATA = process.env.STRATA_BIN;
const CHROMIUM = process.env.STRATA_CHROMIUM || '/usr/bin/chromium';
const SCALE = process.env.STRATA_TEST_SCALE || '0.2';
const HEADED = process.env.STRATA_TEST_HEADED === '1';
const OVERALL_MS = 180_000;
const EXPORT_MS = 60_000;

const TENANT = '1';
const TENANT_KEY = 'strata_test_tenant_key_0001';
const SERVICE_KEY = 'strata_test_service_key_0001';
const UNKNOWN_KEY = 'strata_test_unknown_key_0001';
const LEDGER_HEADER = 'payment_id,order_id,member_email,paid_at,method,amount,refunded,net';

const execFileP = promisify(execFile);
const sha256 = (s) => crypto.createHash('sha256').update(s).digest('hex');
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

let tmp = null;
let server = null;
let serverLog = null;
let browser = null;
let page = null;
let finished = false;
const problems = [];  // page errors and CSP violations, reported as failures

function log(...args) {
  console.log(`[${new Date().toISOString().slice(11, 23)}]`, ...args);
}

class TestFailure extends Error {}
function check(condition, message) {
  if (!condition) throw new TestFailure(message);
}

// ---------------------------------------------------------------------------------------------
// The project and the server

async function makeProject() {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-web-'));
  for (const name of ['strata.toml', 'reports', 'tenants.sql']) {
    fs.cpSync(path.join(EXAMPLE, name), path.join(tmp, name), { recursive: true });
  }
  const started = Date.now();
  await execFileP(STRATA, ['generate', '--project', tmp, '--scale', SCALE, '--quiet'], { timeout: 120_000 });
  log(`generated the database (scale ${SCALE}) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  fs.appendFileSync(path.join(tmp, 'strata.toml'), [
    '',
    '# Added by tests/browser/test_web.mjs',
    '[[serve.keys]]',
    `sha256 = "${sha256(TENANT_KEY)}"`,
    `tenant = ${TENANT}`,
    '',
    '[[serve.keys]]',
    `sha256 = "${sha256(SERVICE_KEY)}"`,
    'role = "service"',
    '',
  ].join('\n'));
}

// The tenant with the most members: the one whose slow report runs long enough to be cancelled.
async function heaviestTenant() {
  const sql = 'SELECT admin_id FROM members GROUP BY admin_id ORDER BY count(*) DESC, admin_id LIMIT 1';
  const child = execFile(STRATA, ['export', '--project', tmp, '--sql', '-', '-o', '-', '--format', 'csv', '--quiet']);
  child.stdin.end(sql);
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  const code = await new Promise((resolve) => child.on('close', resolve));
  check(code === 0, `strata export --sql failed (exit ${code})`);
  const tenant = out.trim().split(/\r?\n/)[1];
  check(/^\d+$/.test(tenant || ''), `could not find the heaviest tenant in: ${JSON.stringify(out)}`);
  return tenant;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function startServer() {
  const port = await freePort();
  const logPath = path.join(tmp, 'serve.log');
  serverLog = logPath;
  const fd = fs.openSync(logPath, 'a');
  // --tenant-limit 1 (the default, said here because the cancel step relies on it).
  server = spawn(STRATA, ['serve', '--project', tmp, '--listen', `127.0.0.1:${port}`, '--tenant-limit', '1'], {
    stdio: ['ignore', fd, fd],
  });
  fs.closeSync(fd);
  let exited = null;
  server.on('exit', (code, signal) => { exited = { code, signal }; });
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    check(!exited, `strata serve exited early (${JSON.stringify(exited)}); its log:\n${tail(logPath)}`);
    try {
      const res = await fetch(`${base}/healthz`);
      if (res.status === 200) {
        log(`strata serve answers on ${base}`);
        return base;
      }
    } catch { /* not listening yet */ }
    await sleep(200);
  }
  throw new TestFailure(`GET /healthz did not answer 200 within 30 s; the server's log:\n${tail(logPath)}`);
}

async function stopServer() {
  if (!server || server.exitCode !== null || server.signalCode !== null) return;
  const gone = new Promise((resolve) => server.once('exit', resolve));
  server.kill('SIGTERM');
  const timer = setTimeout(() => {
    log('strata serve did not stop within 10 s of SIGTERM: SIGKILL');
    server.kill('SIGKILL');
  }, 10_000);
  await gone;
  clearTimeout(timer);
}

function tail(file, lines = 40) {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

// ---------------------------------------------------------------------------------------------
// Page helpers

const row = (id) => page.locator(`tr[data-export-id="${id}"]`);
const stateOf = (id) => row(id).locator('td[data-state]').getAttribute('data-state');

async function useKey(key) {
  await page.fill('#key', key);
  await page.click('#key-use');
}

async function waitForMessage(pattern, kind) {
  const message = page.locator('#message');
  await message.waitFor({ state: 'visible', timeout: 10_000 });
  const deadline = Date.now() + 10_000;
  let text = '';
  while (Date.now() < deadline) {
    text = (await message.textContent()) || '';
    if (pattern.test(text) && (!kind || (await message.getAttribute('data-kind')) === kind)) return text;
    await sleep(100);
  }
  throw new TestFailure(`#message should match ${pattern}${kind ? ` (${kind})` : ''}, it reads: ${JSON.stringify(text)}`);
}

// Clicks Start and returns the export the server answered (202).
async function startExport() {
  const answer = page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/api/v1/exports');
  await page.click('#start');
  const response = await answer;
  const body = await response.json().catch(() => null);
  check(response.status() === 202, `POST /api/v1/exports answered ${response.status()}: ${JSON.stringify(body)}`);
  check(body && typeof body.id === 'string', `the 202 answer has no id: ${JSON.stringify(body)}`);
  await row(body.id).waitFor({ timeout: 10_000 });  // the new export is in the list at once
  return body;
}

// Waits until the export's row shows one of `states`; returns the state shown.
async function waitForState(id, states, timeout = EXPORT_MS) {
  const selector = states.map((s) => `tr[data-export-id="${id}"] td[data-state="${s}"]`).join(', ');
  const terminal = ['done', 'failed', 'cancelled'].filter((s) => !states.includes(s));
  const wrong = terminal.map((s) => `tr[data-export-id="${id}"] td[data-state="${s}"]`).join(', ');
  const hit = await Promise.race([
    page.waitForSelector(selector, { timeout }).then(() => 'ok'),
    wrong ? page.waitForSelector(wrong, { timeout }).then(() => 'wrong') : new Promise(() => {}),
  ]);
  const state = await stateOf(id);
  if (hit === 'wrong') {
    const error = await row(id).locator('.error').textContent().catch(() => '');
    throw new TestFailure(`export ${id} ended ${state}, expected ${states.join(' or ')}${error ? `: ${error}` : ''}`);
  }
  return state;
}

async function download(id, expectedName) {
  const link = row(id).locator('a.download');
  await link.waitFor({ state: 'visible', timeout: 10_000 });
  const [dl] = await Promise.all([page.waitForEvent('download', { timeout: 30_000 }), link.click()]);
  check(dl.suggestedFilename() === expectedName,
    `the downloaded file is named ${JSON.stringify(dl.suggestedFilename())}, expected ${expectedName}`);
  const failure = await dl.failure();
  check(!failure, `the download failed: ${failure}`);
  const file = path.join(tmp, `downloaded-${expectedName}`);
  await dl.saveAs(file);
  return fs.readFileSync(file);
}

async function selectReport(name) {
  await page.selectOption('#report', name);
  await page.locator(`#params [data-param]`).first().waitFor({ timeout: 5_000 });
}

// ---------------------------------------------------------------------------------------------
// The steps

async function steps(base) {
  // The page itself: served with a strict CSP, and it loads without errors.
  const home = await page.goto(base + '/');
  check(home && home.status() === 200, `GET / answered ${home && home.status()}`);
  const csp = home.headers()['content-security-policy'] || '';
  check(/default-src 'self'/.test(csp), `GET / should send Content-Security-Policy: default-src 'self', got ${JSON.stringify(csp)}`);
  await page.locator('#key').waitFor();
  log('without a key, the page says how to get one');
  check(/strata key new/.test((await page.locator('#key-help').textContent()) || '') &&
        await page.locator('#key-help').isVisible(), 'the page without a key should say how to get one');

  log('an unknown key is refused with a clear message');
  await useKey(UNKNOWN_KEY);
  await waitForMessage(/valid API key/i, 'error');
  check((await page.getAttribute('#key', 'aria-invalid')) === 'true', '#key should be marked invalid after a 401');
  check(await page.isDisabled('#start'), '#start should stay disabled without a valid key');

  log('a tenant key: the tenant parameter is locked to the key\'s tenant');
  await useKey(TENANT_KEY);
  await page.waitForSelector('#report option[value="member_activity"]', { state: 'attached', timeout: 10_000 });
  check(await page.locator('#message').isHidden(), 'the 401 message should be gone once a valid key is used');
  check(await page.locator('#key-help').isHidden(), 'how to get a key should be gone once a valid key is used');
  await selectReport('member_activity');
  const tenantInput = page.locator('#params [data-param="admin_id"]');
  check(await tenantInput.evaluate((e) => e.readOnly), 'admin_id should be read-only for a tenant key');
  check((await tenantInput.inputValue()) === TENANT, `admin_id should show the key's tenant ${TENANT}, shows ${await tenantInput.inputValue()}`);
  const from = page.locator('#params [data-param="from"]');
  check((await from.getAttribute('type')) === 'date', 'a date parameter should be an <input type=date>');
  check((await from.inputValue()) === '2024-01-01', `from should be filled with its default, shows ${await from.inputValue()}`);

  check(await page.locator('#watch-panel').isHidden(), 'the watch is for service keys: hidden for a tenant key');

  log('member_activity as xlsx, followed to the download');
  await page.selectOption('#format', 'xlsx');
  const first = await startExport();
  await waitForState(first.id, ['done']);
  check(/\d/.test((await row(first.id).locator('.rows').textContent()) || ''), 'a done export should show its row count');
  const xlsx = await download(first.id, `member_activity_${TENANT}.xlsx`);
  check(xlsx.subarray(0, 2).toString('latin1') === 'PK', 'the .xlsx file should be a zip (start with PK)');
  log(`  downloaded member_activity_${TENANT}.xlsx, ${xlsx.length} bytes`);

  log('payments_ledger as csv');
  await selectReport('payments_ledger');
  await page.selectOption('#format', 'csv');
  const ledger = await startExport();
  await waitForState(ledger.id, ['done']);
  const csv = (await download(ledger.id, `payments_ledger_${TENANT}.csv`)).toString('utf8').replace(/^\uFEFF/, '');
  const header = csv.split(/\r?\n/)[0];
  check(header === LEDGER_HEADER, `the CSV header is ${JSON.stringify(header)}, expected ${LEDGER_HEADER}`);

  log('the list is newest first and the key survives a reload');
  await page.reload();
  await row(ledger.id).waitFor({ timeout: 10_000 });
  const ids = await page.locator('#exports-body tr[data-export-id]').evaluateAll((trs) => trs.map((t) => t.dataset.exportId));
  check(ids.indexOf(ledger.id) >= 0 && ids.indexOf(ledger.id) < ids.indexOf(first.id), `the newest export should come first: ${ids}`);
  check((await page.inputValue('#key')) === TENANT_KEY, 'the key should be kept (sessionStorage) across a reload');

  log('a service key: the tenant is a required input; a bad value is refused and highlighted');
  await useKey(SERVICE_KEY);
  await page.waitForSelector('#report option[value="member_activity"]', { state: 'attached', timeout: 10_000 });
  log('a service key sees the watch, with nothing in it yet');
  await page.locator('#watch-panel').waitFor({ state: 'visible', timeout: 10_000 });
  await page.locator('#watch-empty').waitFor({ state: 'visible', timeout: 10_000 });
  check((await page.locator('#watch-body tr').count()) === 0, 'no report version has regressed: the watch is empty');
  await selectReport('member_activity');
  await page.selectOption('#format', 'xlsx');
  const tenantField = page.locator('#params [data-param="admin_id"]');
  check(!(await tenantField.evaluate((e) => e.readOnly)), 'admin_id should be editable for a service key');
  check((await tenantField.inputValue()) === '', 'admin_id should start empty for a service key');
  await tenantField.fill('1.5');
  const refused = page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/api/v1/exports');
  await page.click('#start');
  const refusal = await refused;
  const refusalBody = await refusal.json().catch(() => null);
  check(refusal.status() === 400, `admin_id=1.5 should be refused with 400, got ${refusal.status()}: ${JSON.stringify(refusalBody)}`);
  check(refusalBody && refusalBody.field === 'params.admin_id',
    `the 400 should name field params.admin_id: ${JSON.stringify(refusalBody)}`);
  await waitForMessage(/admin_id/, 'error');
  check((await tenantField.getAttribute('aria-invalid')) === 'true', 'the field named by the 400 should be highlighted');
  check(await tenantField.evaluate((e) => e.classList.contains('invalid')), 'the field named by the 400 should have class invalid');

  log('cancel: a queued export (the tenant\'s running one holds its only slot) and a running one');
  const heavy = await heaviestTenant();
  await selectReport('member_activity_subqueries');
  await page.fill('#params [data-param="admin_id"]', heavy);
  const slow = await startExport();
  await waitForState(slow.id, ['running'], 20_000);
  const bar = row(slow.id).locator('progress');
  check(await bar.isVisible(), 'a running export should show a progress bar');
  log(`  ${slow.report} for tenant ${heavy} is running`);

  await selectReport('member_activity');
  await page.fill('#params [data-param="admin_id"]', heavy);
  const waiting = await startExport();
  check(await row(waiting.id).locator('button.cancel').isVisible(), 'a queued export should have a Cancel button');
  check((await stateOf(waiting.id)) === 'queued',
    `the second export of tenant ${heavy} should wait while its first runs (per-tenant limit 1), it is ${await stateOf(waiting.id)}`);
  await row(waiting.id).locator('button.cancel').click();
  await waitForState(waiting.id, ['cancelled'], 10_000);
  check(await row(waiting.id).locator('button.cancel').isHidden(), 'a cancelled export should have no Cancel button');
  check(await row(waiting.id).locator('a.download').isHidden(), 'a cancelled export should have no Download link');

  await row(slow.id).locator('button.cancel').click();
  const end = await waitForState(slow.id, ['cancelled', 'done'], 15_000);
  if (end === 'done') log('  note: the running export finished before the Cancel click reached the server');
  else log('  the running export was cancelled');

  check(problems.length === 0, `the page reported errors:\n${problems.join('\n')}`);
}

// ---------------------------------------------------------------------------------------------

async function cleanup(ok) {
  if (browser) await browser.close().catch(() => {});
  await stopServer().catch((e) => log(`stopping the server: ${e}`));
  if (ok && tmp) fs.rmSync(tmp, { recursive: true, force: true });
}

async function fail(error) {
  if (finished) return;
  finished = true;
  console.error(`\nFAIL: ${error instanceof TestFailure ? error.message : (error && error.stack) || error}`);
  if (page && tmp) {
    const shot = path.join(tmp, 'failure.png');
    await page.screenshot({ path: shot, fullPage: true }).then(() => console.error(`screenshot: ${shot}`), () => {});
  }
  if (serverLog) console.error(`server log (${serverLog}):\n${tail(serverLog, 20)}`);
  await cleanup(false);
  if (tmp) console.error(`kept ${tmp}`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}

async function main() {
  if (!STRATA) {
    console.error('STRATA_BIN must name the strata binary (e.g. build/src/strata)');
    process.exit(1);
  }
  check(fs.existsSync(CHROMIUM), `no Chromium at ${CHROMIUM} (apt-get install chromium, or set STRATA_CHROMIUM)`);
  const overall = setTimeout(() => fail(new TestFailure(`the test took longer than ${OVERALL_MS / 1000} s`)), OVERALL_MS);

  await makeProject();
  const base = await startServer();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: !HEADED,
    args: [...(HEADED ? [] : ['--headless']), '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
  page.setDefaultTimeout(15_000);
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy|Refused to/i.test(m.text())) problems.push(`console: ${m.text()}`);
  });

  await steps(base);

  clearTimeout(overall);
  finished = true;
  await cleanup(true);
  log('PASS: the web page works end to end');
  console.log('1 passed, 0 failed');
  process.exit(0);
}

process.on('SIGINT', () => fail(new TestFailure('interrupted')));
main().catch(fail);
