// Prints what SheetJS reads from an .xlsx file, as JSON: per sheet its name, the range it takes
// from the sheet's <dimension> ("!ref") and its rows as arrays of cell texts.
// Usage: node read_xlsx.mjs FILE
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const XLSX = require("xlsx");

const workbook = XLSX.readFile(process.argv[2], { dense: false, cellDates: false });
const sheets = workbook.SheetNames.map((name) => {
  const sheet = workbook.Sheets[name];
  const rows = XLSX.utils.sheet_to_json(sheet, { header: 1, raw: false, defval: null, blankrows: true });
  return { name, ref: sheet["!ref"] ?? null, rows };
});
process.stdout.write(JSON.stringify({ sheets }));
