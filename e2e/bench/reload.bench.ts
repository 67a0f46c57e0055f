// The controller's config reload under a storm of hostile pool objects, without a cluster: the real
// Controller over k8s-runtime's in-memory API server (FakeKube), fed the bad-input stress test's
// objects (e2e/src/bad-input.ts; every pool, legacy pool and advertisement it generates, whether
// the real API server would admit it or not) while a healthy pool serves 5 Services. The objects
// arrive 16 at a time, 5 ms apart, as the stress test's 16 parallel POSTs deliver them; writes are
// answered a macrotask later, as over the network.
// Per storm size: the longest the event loop was blocked (a 5 ms timer's worst lateness: the time
// a lease renewal could have waited; the leader's renew deadline is 2 s, see
// packages/controller/src/main.ts), the event loop delay p99, the time until every object carries
// a Valid condition (the reloads and the status writes done), and the CPU time the process spent
// meanwhile (the in-memory API server's included; steadier than wall time on a busy machine).
// Usage: pnpm bench reload    [RELOAD_SIZES=1,150,1000 BAD_INPUT_SEED=7]
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { AllocatorMetrics, Controller } from '@metallb-ts/controller';
import {
  createK8sClientMetrics,
  createRegistry,
  silentLogger,
  type KubeObject,
} from '@metallb-ts/k8s-runtime';
import { FakeKube } from '@metallb-ts/k8s-runtime/testing';
import { generateStorm } from '../src/bad-input.js';

const NS = 'metallb-system';
const SVC_NS = 'bad-input';
const SIZES = (process.env.RELOAD_SIZES ?? '1,150,1000').split(',').map(Number);
const SEED = Number(process.env.BAD_INPUT_SEED ?? 7);
const HEALTHY_CIDR = '2001:db8:600d::/120';
const HEALTHY = ['healthy-0', 'healthy-1', 'healthy-2', 'healthy-3', 'healthy-4'];
const SETTLE_TIMEOUT_MS = 300_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The in-memory API server answering writes a macrotask later, as one over the network does: a
 * controller that awaits its writes gives the event loop back between them (with an immediate
 * answer, every write of a status pass would count as one block).
 */
class NetworkKube extends FakeKube {
  override async patch<T extends KubeObject = KubeObject>(
    ...args: Parameters<FakeKube['patch']>
  ): Promise<T> {
    await new Promise((r) => setImmediate(r));
    return super.patch<T>(...args);
  }
}

interface Status {
  status?: {
    conditions?: { type: string }[];
    loadBalancer?: { ingress?: { ip?: string }[] };
  };
}
const ingress = (o: KubeObject | undefined) =>
  ((o as Status | undefined)?.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? '');
const hasValid = (o: KubeObject | undefined) =>
  ((o as Status | undefined)?.status?.conditions ?? []).some((c) => c.type === 'Valid');

async function poll(what: string, done: () => boolean, timeoutMs = SETTLE_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

/** The first `n` pool and advertisement objects of the seeded storm, as the API server stores them. */
function stormObjects(n: number): KubeObject[] {
  const cases = generateStorm({
    seed: SEED,
    count: Math.ceil(n * 1.6) + 20,
    poolNamespace: NS,
    serviceNamespace: SVC_NS,
    healthyPool: { name: 'healthy', cidr: HEALTHY_CIDR, held: ['2001:db8:600d::', '2001:db8:600d::1'] },
  }).filter((c) => c.kind !== 'Service');
  if (cases.length < n) throw new Error(`the storm has only ${cases.length} pool objects, not ${n}`);
  return cases.slice(0, n).map((c) => {
    const obj = JSON.parse(typeof c.body === 'string' ? c.body : c.body.toString('utf8')) as KubeObject;
    return { ...obj, metadata: { ...obj.metadata, namespace: NS } };
  });
}

/** The longest any 5 ms timer fired late while `run` ran: the event loop's longest block. */
async function measureBlocks<T>(
  run: () => Promise<T>,
): Promise<{ value: T; longestMs: number; p99Ms: number }> {
  const histogram = monitorEventLoopDelay({ resolution: 5 });
  histogram.enable();
  let last = performance.now();
  let longest = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last - 5);
    last = now;
  }, 5);
  try {
    const value = await run();
    return { value, longestMs: longest, p99Ms: histogram.percentile(99) / 1e6 };
  } finally {
    clearInterval(timer);
    histogram.disable();
  }
}

async function runStorm(n: number) {
  const kube = new NetworkKube();
  kube.put({
    apiVersion: 'metallb.io/v1beta1',
    kind: 'IPAddressPool',
    metadata: { name: 'healthy', namespace: NS },
    spec: { addresses: [HEALTHY_CIDR], autoAssign: false },
  } as KubeObject);
  kube.put({
    apiVersion: 'metallb.io/v1beta1',
    kind: 'L2Advertisement',
    metadata: { name: 'healthy', namespace: NS },
    spec: { ipAddressPools: ['healthy'] },
  } as KubeObject);
  for (const name of HEALTHY)
    kube.put({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, namespace: SVC_NS, annotations: { 'metallb.io/address-pool': 'healthy' } },
      spec: {
        type: 'LoadBalancer',
        ipFamilies: ['IPv6'],
        ipFamilyPolicy: 'SingleStack',
        ports: [{ port: 80, protocol: 'TCP' }],
      },
    } as KubeObject);
  const registry = createRegistry();
  const controller = new Controller({
    kube,
    events: { emit: async () => {} },
    logger: silentLogger,
    namespace: NS,
    allocatorMetrics: new AllocatorMetrics(registry),
    clientMetrics: createK8sClientMetrics(registry),
  });
  await controller.start(new AbortController().signal);
  const held = () => HEALTHY.map((name) => ingress(kube.find('Service', SVC_NS, name)).join(','));
  await poll('the healthy Services to have addresses', () => held().every((ip) => ip !== ''), 10_000);
  const before = held();
  const objects = stormObjects(n);
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const { longestMs, p99Ms } = await measureBlocks(async () => {
    for (let i = 0; i < objects.length; i += 16) {
      for (const o of objects.slice(i, i + 16)) kube.put(o);
      await sleep(5);
    }
    await poll(`a Valid condition on all ${n} storm objects`, () =>
      objects.every((o) => hasValid(kube.find(o.kind!, NS, o.metadata!.name!))),
    );
  });
  const settledMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  const after = held();
  await controller.stop();
  if (after.join() !== before.join())
    throw new Error(`healthy Services lost their addresses: ${before.join(' ')} -> ${after.join(' ')}`);
  const entries = objects.reduce((sum, o) => {
    const a = (o as { spec?: { addresses?: unknown } }).spec?.addresses;
    return sum + (Array.isArray(a) ? a.length : 0);
  }, 0);
  return { n, entries, longestMs, p99Ms, settledMs, cpuMs };
}

const rows = [];
for (const n of SIZES) {
  const r = await runStorm(n);
  rows.push({
    'hostile pool objects': r.n,
    'address entries': r.entries,
    'longest block ms': Math.round(r.longestMs),
    'loop delay p99 ms': Math.round(r.p99Ms),
    'all Valid after ms': Math.round(r.settledMs),
    'CPU ms': Math.round(r.cpuMs),
  });
}
console.log(`seed ${SEED}; lease renew deadline 2000 ms`);
console.table(rows);
