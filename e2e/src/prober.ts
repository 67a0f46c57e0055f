// Runs in the client namespace during the failover benchmark: one HTTP GET to the URL every
// interval, each on a fresh connection (so each one depends on the neighbour entry, as a new
// client would), printing one line per request: "<epoch ms> <body>" for a success, "<epoch ms> -
// <why>" for a failure (timeout, refused, a status other than 200). The outage is the gap between
// successes; a planned handover must show no failure at all.
// Usage: prober.ts <url> <intervalMs> <timeoutMs>
import { get } from 'node:http';

const [url, intervalArg, timeoutArg] = process.argv.slice(2);
if (!url) {
  process.stderr.write('usage: prober.ts <url> [intervalMs=20] [timeoutMs=200]\n');
  process.exit(2);
}
const interval = Number(intervalArg ?? 20);
const timeout = Number(timeoutArg ?? 200);

function probe(): void {
  let reported = false;
  const report = (line: string) => {
    if (reported) return;
    reported = true;
    process.stdout.write(`${Date.now()} ${line}\n`);
  };
  const req = get(url!, { agent: false, timeout }, (res) => {
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (c: string) => (body += c));
    res.on('end', () => report(res.statusCode === 200 ? body.trim() : `- status ${res.statusCode}`));
    res.on('error', (e: NodeJS.ErrnoException) => report(`- ${e.code ?? e.message}`));
  });
  req.on('timeout', () => {
    report('- timeout');
    req.destroy();
  });
  req.on('error', (e: NodeJS.ErrnoException) => report(`- ${e.code ?? e.message}`));
}

const timer = setInterval(probe, interval);
process.stdout.write(`ready ${Date.now()}\n`);
const stop = () => {
  clearInterval(timer);
  setTimeout(() => process.exit(0), timeout + 50).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
