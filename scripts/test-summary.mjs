// The last lines of `pnpm test`: the totals, and before them each failure's test name and the
// first lines of its message. CI shows only the tail of a run's output, and a failing e2e test's
// message (with its lab dump) can be far longer than that tail, so this repeats what matters
// where it is read.
//   node scripts/test-summary.mjs <jest --json results>...
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import process from 'node:process';

const say = (line) => process.stdout.write(`${line}\n`);
const MESSAGE_LINES = 6;
const MAX_FAILURES = 20;
// eslint-disable-next-line no-control-regex
const plain = (s) => s.replace(/\u001b\[[0-9;]*m/g, '');
const head = (s) =>
  plain(s)
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l.trim() !== '')
    .slice(0, MESSAGE_LINES)
    .map((l) => `    ${l.slice(0, 300)}`)
    .join('\n');

let passed = 0;
let failed = 0;
const failures = [];
for (const file of process.argv.slice(2)) {
  let r;
  try {
    r = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    failed += 1;
    failures.push(`no results from ${file}: ${e instanceof Error ? e.message : String(e)}`);
    continue;
  }
  passed += r.numPassedTests ?? 0;
  failed += (r.numFailedTests ?? 0) + (r.numRuntimeErrorTestSuites ?? 0);
  for (const suite of r.testResults ?? []) {
    const where = relative(process.cwd(), suite.name ?? '?');
    const seen = new Set();
    for (const t of suite.assertionResults ?? []) {
      if (t.status !== 'failed') continue;
      const message = head((t.failureMessages ?? []).join('\n'));
      // A failed beforeAll fails every test of the file with one message: say it once.
      const said = seen.has(message);
      seen.add(message);
      failures.push(`FAILED ${where} › ${t.fullName}${said ? ' (same message as above)' : `\n${message}`}`);
    }
    if ((suite.assertionResults ?? []).every((t) => t.status !== 'failed') && suite.status === 'failed') {
      failures.push(`FAILED ${where} (failed outside its tests)\n${head(suite.message ?? '')}`);
    }
  }
}
if (failures.length > 0) {
  say('\nfailures:');
  for (const f of failures.slice(0, MAX_FAILURES)) say(f);
  if (failures.length > MAX_FAILURES) say(`... and ${failures.length - MAX_FAILURES} more`);
}
say(`\ntests: ${passed} passed, ${failed} failed`);
