// One round of "who answers for these addresses?" from the client namespace, two ways, in a lab
// of its own with the demo Service announced: one arping/ndisc6 per address (16 at a time, each
// listening 150 ms: the soak's probe until now) against one ask.py round (all requests at once,
// one 150 ms listen). Prints one table: addresses, how many answered, median and max ms per
// round over WIRE_BENCH_ROUNDS rounds (default 5), and whether both saw the same owners.
// WIRE_BENCH_IPS (comma-separated) picks the addresses (default 48 IPv4 from the demo pool's
// range on, 16 IPv6).
import { withBenchLab } from '../src/bench-lab.js';
import { clientArping, clientOwners } from '../src/client.js';
import { applyDemo, DEMO_NAMESPACE, waitForIngress } from '../src/cluster-objects.js';

const LISTEN_MS = 150;
const ips = (
  process.env.WIRE_BENCH_IPS ??
  [
    ...Array.from({ length: 48 }, (_, i) => `203.0.113.${200 + i}`),
    ...Array.from({ length: 16 }, (_, i) => `2001:db8:1::${(0x100 + i).toString(16)}`),
  ].join(',')
).split(',');
const rounds = Number(process.env.WIRE_BENCH_ROUNDS ?? 5);

async function perAddress(): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  const queue = [...ips];
  const worker = async () => {
    for (let ip = queue.shift(); ip !== undefined; ip = queue.shift())
      out.set(ip, [...(await clientArping(ip, { listenMs: LISTEN_MS })).macs].sort());
  };
  await Promise.all(Array.from({ length: Math.min(16, ips.length) }, worker));
  return out;
}

const oneRound = () => clientOwners(ips, LISTEN_MS);

async function time(f: () => Promise<Map<string, string[]>>) {
  const ms: number[] = [];
  let last = new Map<string, string[]>();
  for (let i = 0; i < rounds; i++) {
    const t0 = performance.now();
    last = await f();
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  return { median: ms[Math.floor(ms.length / 2)]!, max: ms.at(-1)!, last };
}

const log = (line: string) => process.stderr.write(`[wire-probe] ${line}\n`);
await withBenchLab(log, async ({ cp }) => {
  await applyDemo(cp);
  const [vip] = await waitForIngress(cp, DEMO_NAMESPACE, 'demo', 30_000);
  log(`demo VIP ${vip}; probing ${ips.length} addresses, ${rounds} rounds each way`);
  const a = await time(perAddress);
  const b = await time(oneRound);
  const key = (m: Map<string, string[]>) => JSON.stringify(ips.map((ip) => [ip, m.get(ip) ?? []]));
  const answered = (m: Map<string, string[]>) => ips.filter((ip) => (m.get(ip) ?? []).length > 0).length;
  const rows = [
    ['probe', 'addresses', 'answered', 'median ms', 'max ms'],
    [
      'arping/ndisc6 per address (16 at once)',
      ips.length,
      answered(a.last),
      a.median.toFixed(0),
      a.max.toFixed(0),
    ],
    ['one round (ask.py)', ips.length, answered(b.last), b.median.toFixed(0), b.max.toFixed(0)],
  ];
  for (const r of rows)
    process.stdout.write(`${r.map((c, i) => String(c).padEnd(i === 0 ? 40 : 12)).join('')}\n`);
  process.stdout.write(`same owners seen by both: ${key(a.last) === key(b.last)}\n`);
  if (key(a.last) !== key(b.last)) {
    for (const ip of ips)
      if (JSON.stringify(a.last.get(ip)) !== JSON.stringify(b.last.get(ip)))
        process.stdout.write(
          `  ${ip}: per address ${JSON.stringify(a.last.get(ip))}, one round ${JSON.stringify(b.last.get(ip))}\n`,
        );
  }
});
