// Parses an MT940 file with mt940js (a parser this project did not write) and prints its statements as JSON.
// Used by the tests: node scripts/mt940-parse.js <file>. A file the parser rejects (a missing tag, a currency that
// changes, balances that do not add up to the turnover) exits non-zero with its message.
const fs = require('fs');
const { Parser } = require('mt940js');
try {
  const statements = new Parser().parse(fs.readFileSync(process.argv[2], 'ascii'));
  process.stdout.write(JSON.stringify(statements));
} catch (e) {
  process.stderr.write(String(e && e.message || e));
  process.exit(2);
}
