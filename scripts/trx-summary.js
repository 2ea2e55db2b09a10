// Sums the counters of .trx reports into one line: "Tests: N passed, N failed, N skipped".
const fs = require('fs');
let passed = 0, failed = 0, skipped = 0;
for (const file of process.argv.slice(2)) {
  const text = fs.readFileSync(file, 'utf8');
  const m = text.match(/<Counters\b[^>]*>/);
  if (!m) { failed += 1; continue; }
  const attr = (name) => Number((m[0].match(new RegExp(`\\b${name}="(\\d+)"`)) || [0, 0])[1]);
  passed += attr('passed');
  failed += attr('failed') + attr('error') + attr('timeout') + attr('aborted');
  skipped += attr('notExecuted');
}
console.log(`Tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
