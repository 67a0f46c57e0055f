// The speaker's decide (decideServed: buildView + decideAnnouncements + servedOn, what
// Speaker.decide runs on every RECOMPUTE and again on every L2STATUS sync) for N Services on 3 nodes, while one Service or
// one EndpointSlice changes per step (a new object, as the watch caches hand out), and when the
// alive set changes (a failover: every Service is re-elected).
// Run: pnpm bench decide   (or: pnpm exec tsx --expose-gc packages/speaker/bench/decide.bench.ts [steps])
import type { EndpointSlice, Node as KubeNode, Service } from '@metallb-ts/k8s-runtime';
import { decideServed } from '../src/decide.js';
import { kubeNode, l2Config } from '../tests/decide-inputs.js';

const steps = Number(process.argv[2] ?? 60);
const sizes = [1_000, 5_000];
const NODES = ['node-1', 'node-2', 'node-3'];

const config = l2Config({ bench: ['2001:db8:1::/112'] }, { ipAddressPools: ['bench'] });
const nodes: KubeNode[] = NODES.map((name) => kubeNode(name));

const service = (i: number, generation: number): Service =>
  ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: `svc-${i}`,
      namespace: 'bench',
      resourceVersion: String(generation),
      labels: { app: `a${i}`, generation: String(generation) },
      annotations: { 'metallb.io/ip-allocated-from-pool': 'bench' },
    },
    spec: { type: 'LoadBalancer', externalTrafficPolicy: i % 2 === 0 ? 'Local' : 'Cluster' },
    status: { loadBalancer: { ingress: [{ ip: `2001:db8:1::${(i + 1).toString(16)}` }] } },
  }) as Service;

const slice = (i: number, generation: number): EndpointSlice =>
  ({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: `svc-${i}-abcde`,
      namespace: 'bench',
      resourceVersion: String(generation),
      labels: { 'kubernetes.io/service-name': `svc-${i}` },
    },
    endpoints: [0, 1].map((k) => ({
      addresses: [`10.1.${k}.${i % 250}`],
      nodeName: NODES[(i + k + generation) % NODES.length],
      conditions: { ready: true },
    })),
  }) as EndpointSlice;

/** What Speaker.decide does with the caches' lists. */
function decide(services: Service[], slices: EndpointSlice[], alive: Set<string>) {
  return decideServed({ me: 'node-1', services, slices, nodes, config, alive, links: ['eth0'] });
}

interface Row {
  N: number;
  case: string;
  steps: number;
  'ms/decide': string;
  'ms/change (2 decides)': string;
  'µs/Service/decide': string;
}

const fmt = (x: number, digits = 2): string => x.toFixed(digits);
const rows: Row[] = [];
for (const n of sizes) {
  // Stored as a Map like the cache; list() copies the values per decide, as the cache does.
  const svcStore = new Map<number, Service>();
  const sliceStore = new Map<number, EndpointSlice>();
  for (let i = 0; i < n; i++) {
    svcStore.set(i, service(i, 1));
    sliceStore.set(i, slice(i, 1));
  }
  const allAlive = new Set(NODES);
  // Warm up: the first decide of a run (and the JIT) is not what a change costs.
  for (let w = 0; w < 5; w++) decide([...svcStore.values()], [...sliceStore.values()], allAlive);

  // One Service or one EndpointSlice changes per step; the speaker decides twice per change.
  let t = performance.now();
  let announced = 0;
  for (let s = 0; s < steps; s++) {
    const i = (s * 7919) % n;
    if (s % 2 === 0) svcStore.set(i, service(i, s + 2));
    else sliceStore.set(i, slice(i, s + 2));
    for (let d = 0; d < 2; d++)
      announced = decide([...svcStore.values()], [...sliceStore.values()], new Set(allAlive)).served.size;
  }
  let ms = performance.now() - t;
  rows.push({
    N: n,
    case: 'one object changes',
    steps,
    'ms/decide': fmt(ms / steps / 2),
    'ms/change (2 decides)': fmt(ms / steps),
    'µs/Service/decide': fmt((ms * 1000) / steps / 2 / n, 3),
  });

  // Failover: the alive set flips between all three and two nodes; every Service is re-elected.
  const flips = Math.max(10, Math.floor(steps / 10));
  t = performance.now();
  for (let s = 0; s < flips; s++) {
    const alive = s % 2 === 0 ? new Set(NODES.slice(0, 2)) : new Set(NODES);
    for (let d = 0; d < 2; d++) decide([...svcStore.values()], [...sliceStore.values()], alive);
  }
  ms = performance.now() - t;
  rows.push({
    N: n,
    case: 'alive set changes',
    steps: flips,
    'ms/decide': fmt(ms / flips / 2),
    'ms/change (2 decides)': fmt(ms / flips),
    'µs/Service/decide': fmt((ms * 1000) / flips / 2 / n, 3),
  });
  if (announced === 0) throw new Error(`node-1 announces nothing of ${n} Services: the bench is wrong`);
}

console.table(rows);
console.log(
  'ms/change: the RECOMPUTE and the L2STATUS sync each decide once per change; µs/Service: per Service held, per decide.',
);
