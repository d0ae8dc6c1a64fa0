// ExcelJS peer for Strata's streaming .xlsx writer benchmark.
//
// Usage:  node exceljs_peer.mjs OUT.xlsx [N]      (N defaults to 1000000)
// Needs:  `npm ci` in this directory (exceljs pinned to 4.4.0 in package.json).
//
// Measures: wall time of the streaming WorkbookWriter (useStyles: true,
// useSharedStrings: false) generating the shared workload (bold header + N
// data rows; row definitions at the top of run_peers.sh), committing rows one
// by one, up to and including the resolved workbook.commit() (file closed).
// Prints one JSON line on stdout.
import { statSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import ExcelJS from 'exceljs';

const [path, nArg] = process.argv.slice(2);
if (!path || process.argv.length > 4) {
  console.error('usage: node exceljs_peer.mjs OUT.xlsx [N]');
  process.exit(2);
}
const n = nArg === undefined ? 1000000 : Number(nArg);
if (!Number.isInteger(n) || n < 0 || n > 1048575) {
  console.error(`bad N: ${nArg} (0..1048575)`);
  process.exit(2);
}

const HEADERS = ['id', 'name', 'qty', 'price', 'ratio', 'created', 'updated', 'active', 'big', 'note'];
const EPOCH_2020_MS = Date.UTC(2020, 0, 1); // 2020-01-01T00:00:00Z
const DAY_MS = 86400000;

const t0 = performance.now();

const wb = new ExcelJS.stream.xlsx.WorkbookWriter({
  filename: path,
  useStyles: true,
  useSharedStrings: false,
});
const ws = wb.addWorksheet('Sheet1');

const header = ws.addRow(HEADERS);
header.eachCell((cell) => { cell.font = { bold: true }; });
header.commit();

for (let i = 0; i < n; i++) {
  const row = ws.addRow([
    i + 1,
    `member-${i} 김민준 café`,
    (i * 7919) % 1000,
    ((i * 104729) % 1000000) / 100,
    (i % 1000) / 7.0,
    new Date(EPOCH_2020_MS + (i % 2000) * DAY_MS),
    new Date(EPOCH_2020_MS + ((i * 37) % 157680000) * 1000),
    i % 3 === 0,
    i * 1000003,
    `order #${i} <ok> & done`,
  ]);
  row.getCell(6).numFmt = 'yyyy-mm-dd';
  row.getCell(7).numFmt = 'yyyy-mm-dd hh:mm:ss';
  row.commit();
}

ws.commit();
await wb.commit();
const secs = (performance.now() - t0) / 1000;

console.log(JSON.stringify({
  peer: 'exceljs',
  rows: n,
  seconds: Number(secs.toFixed(6)),
  rows_per_s: Number((secs > 0 ? n / secs : 0).toFixed(1)),
  bytes: statSync(path).size,
}));
