// Sums the counters of .trx reports into one line: "Tests: N passed, N failed, N skipped".
// Before that line it names every failed test with the first lines of its message, so that
// the tail of a CI log (often all that is kept) says what failed, not only that something did.
const fs = require('fs');
let passed = 0, failed = 0, skipped = 0;
const failures = [];
const decode = (s) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"')
  .replace(/&apos;/g, "'").replace(/&#xD;/g, '').replace(/&#xA;/g, '\n').replace(/&amp;/g, '&');
for (const file of process.argv.slice(2)) {
  const text = fs.readFileSync(file, 'utf8');
  const m = text.match(/<Counters\b[^>]*>/);
  if (!m) { failed += 1; continue; }
  const attr = (name) => Number((m[0].match(new RegExp(`\\b${name}="(\\d+)"`)) || [0, 0])[1]);
  passed += attr('passed');
  failed += attr('failed') + attr('error') + attr('timeout') + attr('aborted');
  skipped += attr('notExecuted');
  const result = /<UnitTestResult\b([^>]*?)(?:\/>|>([\s\S]*?)<\/UnitTestResult>)/g;
  let r;
  while ((r = result.exec(text)) !== null) {
    if (!/\boutcome="Failed"/.test(r[1])) continue;
    const name = (r[1].match(/\btestName="([^"]*)"/) || [0, '?'])[1];
    const body = r[2] || '';
    const message = (body.match(/<Message>([\s\S]*?)<\/Message>/) || [0, ''])[1];
    const stack = (body.match(/<StackTrace>([\s\S]*?)<\/StackTrace>/) || [0, ''])[1];
    failures.push({ name: decode(name), message: decode(message), stack: decode(stack) });
  }
}
for (const f of failures) {
  console.log(`FAILED ${f.name}`);
  for (const line of f.message.split('\n').slice(0, 12)) console.log(`    ${line}`);
  for (const line of f.stack.split('\n').filter((l) => l.includes('/tests/')).slice(0, 4)) console.log(`    ${line.trim()}`);
}
console.log(`Tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
