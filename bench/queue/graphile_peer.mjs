// graphile-worker peer for Strata's job-queue benchmark (tiny jobs on PostgreSQL).
//
// Usage:
//   node graphile_peer.mjs --url postgresql://... --jobs N --concurrency K
//        [--mode default|batched|both]  which configurations (default: both, in that order)
//        [--prime]                      steady-state planner statistics (see "Tables" below)
//        [--local-queue-size S]         batched mode: localQueue.size (default 500)
//        [--complete-batch-delay MS]    batched mode: completeJobBatchDelay and
//                                       failJobBatchDelay (default 0)
//        [--refetch-delay MS]           batched mode: localQueue.refetchDelay.durationMs
//                                       (default 0 = not set)
//        [--timeout SECONDS]            per phase (default 600)
// Needs: `npm ci` in this directory (graphile-worker pinned in package.json).
// GP_DEBUG=1 in the environment prints progress to stderr.
//
// For each mode, on a new schema (DROP SCHEMA graphile_worker CASCADE, then
// graphile-worker's own migrations through its runMigrations API; untimed):
//   enqueue  N jobs of task "noop" with payload {"i": <seq>}, one job per
//            transaction (WorkerUtils.addJob: one `select add_job(...)` in
//            autocommit), by K concurrent enqueuers sharing one pool of K
//            connections (opened before timing). Timed from the first addJob
//            to the last one resolving.
//   process  the N queued jobs drained by one worker pool (`run`, concurrency
//            K, pollInterval default, noHandleSignals) whose task does nothing.
//            Timed from the call to run() (so it includes the pool's startup,
//            tens of ms) until N `job:success` events have fired AND the jobs
//            table is empty: graphile-worker emits job:success before its
//            completeJob query has run, so the end is when the last completion
//            is committed.
//   mixed    on a new schema again: the same K enqueuers and the same worker
//            pool started together; timed from the start until all N jobs
//            have been added, run and deleted.
// Then one JSON line per mode on stdout:
//   {"peer":"graphile-worker","version":...,"mode":...,"table":"fresh"|"primed",
//    "jobs":N,"concurrency":K,"enqueue_per_second":...,"process_per_second":...,
//    "mixed_per_second":..., "*_seconds":..., "config":{...}}
//
// Modes:
//   default  graphile-worker's defaults: no local queue (each worker fetches
//            its next job with one query and completes it with another),
//            maxPoolSize 10, preparedStatements on, useNodeTime off.
//   batched  the documented high-throughput configuration
//            (worker.graphile.org/docs/performance, "batching"): localQueue
//            {size: S} (the pool locks and fetches up to S jobs per query and
//            hands them to its workers), completeJobBatchDelay 0 and
//            failJobBatchDelay 0 (completions of the same tick are deleted by
//            one query).
// Both modes run with NO_LOG_SUCCESS=1 (graphile-worker's own switch that
// drops its per-job "Completed task" info line) and a logger that prints only
// warnings and errors, to stderr: per-job logging is not what is measured.
//
// Tables: add_job's SQL (add_jobs) includes an UPDATE on the jobs table by
// job_key that PostgreSQL plans as a sequential scan while its statistics say
// the table is tiny, and each connection keeps that plan; on a new schema
// every add_job therefore reads the whole backlog, and the enqueue rate falls
// as the backlog grows (and jumps when autovacuum happens to ANALYZE the table
// mid-run). "fresh" measures that as is. --prime ("primed") first gives the
// table the statistics of a running installation with a backlog: untimed, N
// jobs added through addJobs, ANALYZE, then DELETE (no VACUUM: the statistics
// stay, and so do the dead rows, as completed jobs leave them); the UPDATE is
// then an index probe.

import { performance } from 'node:perf_hooks';
import { readFileSync } from 'node:fs';
import { EventEmitter } from 'node:events';

process.env.NO_LOG_SUCCESS = '1'; // read by graphile-worker when its modules load
const { run, runMigrations, makeWorkerUtils, Logger } = await import('graphile-worker');

const SCHEMA = 'graphile_worker';
const TASK = 'noop';

function usage(msg) {
  if (msg) console.error(`graphile_peer: ${msg}`);
  console.error('usage: node graphile_peer.mjs --url URL --jobs N --concurrency K [--mode default|batched|both] '
    + '[--prime] [--local-queue-size S] [--complete-batch-delay MS] [--refetch-delay MS] [--timeout SECONDS]');
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { prime: false, mode: 'both', localQueueSize: 500, completeBatchDelay: 0, refetchDelay: 0, timeout: 600 };
  const names = {
    '--url': 'url', '--jobs': 'jobs', '--concurrency': 'concurrency', '--mode': 'mode',
    '--local-queue-size': 'localQueueSize', '--complete-batch-delay': 'completeBatchDelay', '--refetch-delay': 'refetchDelay',
    '--timeout': 'timeout',
  };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--prime') { opts.prime = true; continue; }
    let [flag, value] = argv[i].split(/=(.*)/s);
    if (!(flag in names)) usage(`unknown argument ${argv[i]}`);
    if (value === undefined) {
      if (i + 1 >= argv.length) usage(`${flag} needs a value`);
      value = argv[++i];
    }
    opts[names[flag]] = value;
  }
  if (!opts.url) usage('--url is required');
  if (opts.jobs === undefined || opts.concurrency === undefined) usage('--jobs and --concurrency are required');
  for (const k of ['jobs', 'concurrency', 'localQueueSize', 'completeBatchDelay', 'refetchDelay', 'timeout']) {
    const v = Number(opts[k]);
    if (!Number.isInteger(v) || v < (['completeBatchDelay', 'refetchDelay'].includes(k) ? 0 : 1)) usage(`bad value for ${k}: ${opts[k]}`);
    opts[k] = v;
  }
  if (!['default', 'batched', 'both'].includes(opts.mode)) usage(`bad --mode ${opts.mode}`);
  return opts;
}

const opts = parseArgs(process.argv.slice(2));

// The installed version, from the package's own manifest (not in its "exports").
const VERSION = JSON.parse(readFileSync(new URL('./node_modules/graphile-worker/package.json', import.meta.url), 'utf8')).version;

// Warnings and errors only, to stderr (stdout carries the JSON lines).
const logger = new Logger((scope) => (level, message) => {
  if (level === 'error' || level === 'warning') console.error(`[graphile-worker ${level}] ${message}`);
});

function modeConfig(mode) {
  const worker = {};
  if (mode === 'batched') {
    worker.localQueue = { size: opts.localQueueSize };
    if (opts.refetchDelay > 0) worker.localQueue.refetchDelay = { durationMs: opts.refetchDelay };
    worker.completeJobBatchDelay = opts.completeBatchDelay;
    worker.failJobBatchDelay = opts.completeBatchDelay;
  }
  return worker;
}

function withTimeout(promise, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result after ${opts.timeout} s`)), opts.timeout * 1000);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// The admin connection (schema reset, counting jobs): a separate WorkerUtils
// with one connection, never used while a phase is timed except for the final
// emptiness check.
const admin = await makeWorkerUtils({ connectionString: opts.url, maxPoolSize: 1, logger });

async function freshSchema() {
  await admin.withPgClient((c) => c.query(`drop schema if exists ${SCHEMA} cascade`));
  await runMigrations({ connectionString: opts.url, logger });
  if (opts.prime) {
    // Statistics as a running installation with a backlog has them (see "Tables").
    const utils = await makeWorkerUtils({ connectionString: opts.url, maxPoolSize: 1, logger });
    for (let i = 0; i < opts.jobs; i += 1000) {
      const specs = [];
      for (let j = i; j < Math.min(opts.jobs, i + 1000); j++) specs.push({ identifier: TASK, payload: { i: j } });
      await utils.addJobs(specs);
    }
    await utils.release();
    await admin.withPgClient(async (c) => {
      await c.query(`analyze ${SCHEMA}._private_jobs`);
      await c.query(`delete from ${SCHEMA}._private_jobs`);
    });
  }
  // Flush earlier writes now rather than during the timed phases (needs
  // superuser or pg_checkpoint; skipped without).
  await admin.withPgClient((c) => c.query('checkpoint')).catch(() => {});
}

async function jobsLeft() {
  const { rows } = await admin.withPgClient((c) => c.query(`select count(*)::int as n from ${SCHEMA}._private_jobs`));
  return rows[0].n;
}

// Resolves once the jobs table is empty (polled every 2 ms).
async function waitEmpty() {
  for (;;) {
    if ((await jobsLeft()) === 0) return;
    await new Promise((r) => setTimeout(r, 2));
  }
}

// K concurrent enqueuers, each adding its share one job per call/transaction.
async function enqueueAll(utils) {
  let next = 0;
  const one = async () => {
    for (;;) {
      const i = next++;
      if (i >= opts.jobs) return;
      await utils.addJob(TASK, { i });
      if (process.env.GP_DEBUG && i % 2000 === 1999) console.error(`  added ${i + 1} at ${performance.now().toFixed(0)} ms`);
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, one));
}

async function makeEnqueuer() {
  // A pool of exactly K connections; open them before timing starts.
  const utils = await makeWorkerUtils({ connectionString: opts.url, maxPoolSize: opts.concurrency, logger });
  await Promise.all(Array.from({ length: opts.concurrency }, () => utils.withPgClient((c) => c.query('select 1'))));
  return utils;
}

// Starts a worker pool; `done` resolves when N jobs succeeded and the table is empty.
async function startWorker(mode) {
  let successes = 0, failures = 0;
  let resolveAll;
  const allRan = new Promise((r) => { resolveAll = r; });
  const tRun = performance.now();
  // Our own emitter, so the listeners are there before the first job runs.
  const events = new EventEmitter();
  events.on('job:success', () => {
    ++successes;
    if (process.env.GP_DEBUG && (successes === 1 || successes % 5000 === 0)) console.error(`  ${successes} at +${(performance.now() - tRun).toFixed(0)} ms`);
    if (successes === opts.jobs) resolveAll();
  });
  events.on('job:error', () => { failures++; });
  const runner = await run({
    connectionString: opts.url,
    concurrency: opts.concurrency,
    noHandleSignals: true,
    logger,
    events,
    crontab: '',
    taskList: { [TASK]: async () => {} },
    preset: { worker: modeConfig(mode) },
  });
  const done = allRan.then(waitEmpty).then(() => { if (process.env.GP_DEBUG) console.error(`  empty at +${(performance.now() - tRun).toFixed(0)} ms`); });
  return { runner, done, failures: () => failures };
}

async function measure(mode) {
  const result = {
    peer: 'graphile-worker', version: VERSION, mode, table: opts.prime ? 'primed' : 'fresh',
    jobs: opts.jobs, concurrency: opts.concurrency,
  };

  // (a) enqueue, then (b) process the backlog.
  await freshSchema();
  let utils = await makeEnqueuer();
  let t0 = performance.now();
  await withTimeout(enqueueAll(utils), 'enqueue');
  const enqueueS = (performance.now() - t0) / 1000;
  await utils.release();
  const queued = await jobsLeft();
  if (queued !== opts.jobs) throw new Error(`enqueue: ${queued} jobs in the table, expected ${opts.jobs}`);

  t0 = performance.now();
  let w = await startWorker(mode);
  await withTimeout(w.done, 'process');
  const processS = (performance.now() - t0) / 1000;
  await w.runner.stop();
  if (w.failures()) throw new Error(`process: ${w.failures()} job failures`);

  // (c) mixed: enqueue and process together, on a fresh schema.
  await freshSchema();
  utils = await makeEnqueuer();
  t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const workerStarted = startWorker(mode);
  const enqueued = enqueueAll(utils);
  w = await workerStarted;
  await withTimeout(Promise.all([enqueued, w.done]), 'mixed');
  const mixedS = (performance.now() - t0) / 1000;
  if (process.env.GP_DEBUG) { const c = process.cpuUsage(cpu0); console.error(`  mixed: node cpu ${((c.user + c.system) / 1e6).toFixed(2)} s of ${mixedS.toFixed(2)} s`); }
  await w.runner.stop();
  await utils.release();
  if (w.failures()) throw new Error(`mixed: ${w.failures()} job failures`);

  Object.assign(result, {
    enqueue_per_second: Math.round(opts.jobs / enqueueS),
    process_per_second: Math.round(opts.jobs / processS),
    mixed_per_second: Math.round(opts.jobs / mixedS),
    enqueue_seconds: +enqueueS.toFixed(3),
    process_seconds: +processS.toFixed(3),
    mixed_seconds: +mixedS.toFixed(3),
    config: {
      node: process.version,
      maxPoolSize: 10,
      enqueue_pool: opts.concurrency,
      ...(mode === 'batched'
        ? { localQueue: opts.localQueueSize, completeJobBatchDelay: opts.completeBatchDelay,
          refetchDelay: opts.refetchDelay || undefined }
        : { localQueue: -1, completeJobBatchDelay: -1 }),
    },
  });
  return result;
}

let status = 0;
try {
  for (const mode of opts.mode === 'both' ? ['default', 'batched'] : [opts.mode]) {
    console.log(JSON.stringify(await measure(mode)));
  }
} catch (e) {
  console.error(`graphile_peer: ${e.stack || e}`);
  status = 1;
} finally {
  await admin.release();
}
process.exit(status);
