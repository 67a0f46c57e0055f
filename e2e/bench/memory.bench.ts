// Memory and start-up of the shipped binaries in the lab: resident memory (RSS, from
// /proc/<pid>/status) and V8 heap (nodejs_heap_size_used_bytes from the component's /metrics) of
// the controller and of one speaker (node-1), each run from its compiled dist/main.js
// (unbundled) and from its bundle (pnpm bundle), idle and then with 3 pools and 1,000 LoadBalancer
// Services (selecting the demo pods, so every Service has endpoints). Same run: a bare `node -e`
// process as the floor. ready = process start -> first 200 from /readyz.
// Each memory figure is the largest of the samples taken every 250 ms over WINDOW_MS once the
// state is reached (idle: ready; loaded: every Service has its address).
// Usage: flock /tmp/metallb-ts-lab.lock pnpm bench memory     [SERVICES=1000 WINDOW_MS=5000]
import { withBenchLab } from '../src/bench-lab.js';
import { spawn } from 'node:child_process';
import { readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { join } from 'node:path';
import { BINARIES, binary, bundleMain } from '../../packages/ship/src/binaries.js';
import { bundle } from '../../packages/ship/src/bundle.js';
import { apiRequest } from '../src/api-request.js';
import { INSTALL_NAMESPACE } from '../src/cluster-setup.js';
import { DEMO_APP_LABEL, BACKEND_PORT } from '../src/cluster-objects.js';
import {
  componentRecord,
  controllerName,
  freePort,
  speakerName,
  SPEAKER_METRICS_PORT,
  startController,
  startSpeaker,
  stopComponent,
  type ComponentOptions,
  type StartResult,
} from '../src/components.js';
import { type ControlPlane } from '../src/control-plane.js';
import { labNode } from '../src/topology.js';
import { waitFor } from '../src/wait-for.js';

const SERVICES = Number(process.env.SERVICES ?? 1000);
const WINDOW_MS = Number(process.env.WINDOW_MS ?? 5000);
const NAMESPACE = 'bench-memory';
const POOLS = ['bench-a', 'bench-b', 'bench-c'];
const SPEAKER_NODE = 'node-1';
const MiB = 1024 * 1024;
const log = (line: string) => process.stderr.write(`[memory] ${line}\n`);

interface Sample {
  rss: number;
  heap: number;
}

/**
 * Where one process's resident memory is, from /proc/<pid>/smaps: the Node binary's own pages
 * (file-backed, shared with every Node process on the machine but counted in each one's RSS), the
 * other files mapped (shared libraries, the addon), V8's heap as committed (`heap_size_total`
 * from /metrics: most of it is resident once scavenges have swept both semi-spaces), V8's
 * generated code, the capture rings (socket mappings), malloc's main arena and the rest (thread
 * arenas and stacks, V8 pages beyond the heap). MiB, one decimal.
 */
async function breakdown(pid: number, metricsUrl: string): Promise<Record<string, number>> {
  const kib: Record<string, number> = {};
  let key = '';
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const m = /^[0-9a-f]+-[0-9a-f]+ (\S+) \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (m) {
      const [perms, name] = [m[1]!, m[2]!];
      key =
        name === process.execPath || name === realpathSync(process.execPath)
          ? 'node binary'
          : name.startsWith('/')
            ? 'other files'
            : name.startsWith('socket:')
              ? 'capture rings'
              : name === '[heap]'
                ? 'malloc main arena'
                : perms.includes('x')
                  ? 'V8 code'
                  : 'anonymous';
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB$/.exec(line);
    if (rss) kib[key] = (kib[key] ?? 0) + Number(rss[1]);
  }
  const body = (await httpGet(`${metricsUrl}/metrics`, 5000)).body;
  const heapTotal = Number(/^nodejs_heap_size_total_bytes (\S+)$/m.exec(body)?.[1] ?? NaN) / 1024;
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(kib)) out[`${k} MiB`] = +(v / 1024).toFixed(1);
  out['of anonymous: V8 heap committed MiB'] = +(heapTotal / 1024).toFixed(1);
  return out;
}

function rssOf(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`/proc/${pid}/status has no VmRSS line`);
  return Number(m[1]) * 1024;
}

function httpGet(url: string, timeoutMs = 1000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = get(url, { timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: no answer in ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

async function heapOf(metricsUrl: string): Promise<number> {
  const r = await httpGet(`${metricsUrl}/metrics`, 5000);
  const m = /^nodejs_heap_size_used_bytes (\S+)$/m.exec(r.body);
  if (!m) throw new Error(`${metricsUrl}/metrics has no nodejs_heap_size_used_bytes`);
  return Number(m[1]);
}

/** The largest RSS and heap seen over the window. */
async function sampleWindow(pid: number, metricsUrl: string): Promise<Sample> {
  const out: Sample = { rss: 0, heap: 0 };
  const end = Date.now() + WINDOW_MS;
  while (Date.now() < end) {
    out.rss = Math.max(out.rss, rssOf(pid));
    out.heap = Math.max(out.heap, await heapOf(metricsUrl));
    await new Promise((r) => setTimeout(r, 250));
  }
  return out;
}

async function waitReady(name: string, metricsUrl: string, started: number): Promise<number> {
  return waitFor(
    `${name} to answer 200 on ${metricsUrl}/readyz`,
    async () => {
      const r = await httpGet(`${metricsUrl}/readyz`, 500).catch((e: Error) => ({
        status: 0,
        body: e.message,
      }));
      return r.status === 200 ? { done: true, value: Date.now() - started } : { done: false, observed: r };
    },
    { timeoutMs: 30_000, intervalMs: 10 },
  );
}

/** The floor: a Node.js process that does nothing, started the same way. */
async function floor(): Promise<Sample> {
  const child = spawn(
    process.execPath,
    ['-e', 'setInterval(() => console.log(process.memoryUsage().heapUsed), 500)'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  try {
    const lines: number[] = [];
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (c: string) => lines.push(...c.trim().split('\n').map(Number)));
    const out: Sample = { rss: 0, heap: 0 };
    const end = Date.now() + WINDOW_MS;
    while (Date.now() < end) {
      out.rss = Math.max(out.rss, rssOf(child.pid!));
      await new Promise((r) => setTimeout(r, 250));
    }
    out.heap = Math.max(...lines);
    return out;
  } finally {
    child.kill('SIGTERM');
  }
}

function benchPools(): unknown {
  const pools = POOLS.map((name, i) => ({
    apiVersion: 'metallb.io/v1beta1',
    kind: 'IPAddressPool',
    metadata: { name, namespace: INSTALL_NAMESPACE },
    // IPv6 documentation space: 1,024 addresses per pool, room for every Service in any one pool.
    spec: { addresses: [`2001:db8:${i + 10}::/118`] },
  }));
  return {
    apiVersion: 'v1',
    kind: 'List',
    items: [
      ...pools,
      {
        apiVersion: 'metallb.io/v1beta1',
        kind: 'L2Advertisement',
        metadata: { name: 'bench', namespace: INSTALL_NAMESPACE },
      },
    ],
  };
}

function benchServices(n: number): unknown[] {
  return Array.from({ length: n }, (_, i) => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: `svc-${i}`,
      namespace: NAMESPACE,
      annotations: { 'metallb.io/address-pool': POOLS[i % POOLS.length]! },
    },
    spec: {
      type: 'LoadBalancer',
      ipFamilies: ['IPv6'],
      ipFamilyPolicy: 'SingleStack',
      selector: { ...DEMO_APP_LABEL },
      ports: [{ name: 'http', port: 80, targetPort: BACKEND_PORT, protocol: 'TCP' }],
    },
  }));
}

/** Creates the Services over a few connections at once (kubectl sends one at a time), retrying a failed one. */
async function createServices(cp: ControlPlane, services: unknown[]): Promise<void> {
  const queue = [...services];
  const worker = async () => {
    for (let svc = queue.shift(); svc !== undefined; svc = queue.shift()) {
      const name = (svc as { metadata: { name: string } }).metadata.name;
      for (let attempt = 1; ; attempt++) {
        const r = await apiRequest(
          cp.adminKubeconfig,
          'POST',
          `/api/v1/namespaces/${NAMESPACE}/services`,
          svc,
          'application/json',
        ).catch((e: Error) => ({ status: 0, body: e.message }));
        if ((r.status >= 200 && r.status < 300) || r.status === 409) break;
        if (attempt === 5) throw new Error(`creating Service ${NAMESPACE}/${name}: ${r.status} ${r.body}`);
      }
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
}

async function withIngress(cp: ControlPlane): Promise<number> {
  const out = await cp.kubectlOk(['-n', NAMESPACE, 'get', 'services', '-o', 'json'], { timeoutMs: 60_000 });
  const list = JSON.parse(out) as { items: { status?: { loadBalancer?: { ingress?: unknown[] } } }[] };
  return list.items.filter((s) => (s.status?.loadBalancer?.ingress ?? []).length > 0).length;
}

async function removeBenchObjects(cp: ControlPlane): Promise<void> {
  await cp.kubectlOk(['delete', 'namespace', NAMESPACE, '--ignore-not-found', '--wait=false']);
  await cp.kubectlOk(['-n', INSTALL_NAMESPACE, 'delete', 'ipaddresspools,l2advertisements', '--all']);
  await waitFor(
    `namespace ${NAMESPACE} to be gone`,
    async () => {
      const out = await cp.kubectlOk(['get', 'namespaces', '-o', 'name']);
      return out.includes(`namespace/${NAMESPACE}\n`)
        ? { done: false, observed: 'still there' }
        : { done: true, value: true };
    },
    { timeoutMs: 180_000, intervalMs: 500 },
  );
}

type Row = Record<string, string | number>;

async function main(): Promise<void> {
  const rows: Row[] = [];
  let shippedIdle: Record<string, number> | undefined;
  const row = (component: string, variant: string, state: string, s: Sample, readyMs?: number) => {
    rows.push({
      component,
      variant,
      state,
      'RSS MiB': +(s.rss / MiB).toFixed(1),
      'heap MiB': +(s.heap / MiB).toFixed(1),
      'ready ms': readyMs ?? '',
    });
    log(
      `${component} ${variant} ${state}: RSS ${(s.rss / MiB).toFixed(1)} MiB, heap ${(s.heap / MiB).toFixed(1)} MiB`,
    );
  };
  // The bundles of exactly the dist/ that bench.sh just built.
  for (const b of BINARIES) log(`bundled ${b.name}: ${((await bundle(b)).bytes / 1024).toFixed(0)} KiB`);
  await withBenchLab(
    log,
    async ({ cp, dir }) => {
      row('node -e (floor)', '', 'idle', await floor());
      const controllerUrl = `http://127.0.0.1:${await freePort()}`;
      const speakerUrl = `http://${labNode(SPEAKER_NODE).mgmtIp}:${SPEAKER_METRICS_PORT}`;
      const bundles = {
        controller: bundleMain(binary('controller')),
        speaker: bundleMain(binary('speaker')),
      };
      // `as shipped` is the images' entry point: the bundle under the binary's own Node flags.
      const variants: [string, ComponentOptions['mains'], ComponentOptions['nodeFlags']][] = [
        ['unbundled', undefined, undefined],
        ['bundled', bundles, undefined],
        [
          'as shipped (image Node flags)',
          bundles,
          { controller: binary('controller').nodeFlags, speaker: binary('speaker').nodeFlags },
        ],
      ];
      for (const [variant, mains, nodeFlags] of variants) {
        const o: ComponentOptions = {
          logLevel: 'info',
          controller: { metricsPort: Number(new URL(controllerUrl).port) },
          ...(mains ? { mains } : {}),
          ...(nodeFlags ? { nodeFlags } : {}),
        };
        const must = (name: string, r: StartResult) => {
          if (!r.ok) throw new Error(`${name} (${variant}): ${r.error}`);
          return r.value;
        };
        const c0 = Date.now();
        const c = must(controllerName, await startController(cp, dir, o));
        const cReady = await waitReady('controller', controllerUrl, c0);
        const s0 = Date.now();
        const s = must(speakerName(SPEAKER_NODE), await startSpeaker(cp, dir, SPEAKER_NODE, o));
        const sReady = await waitReady('speaker', speakerUrl, s0);
        row('controller', variant, 'idle', await sampleWindow(c.pid, controllerUrl), cReady);
        row('speaker', variant, 'idle', await sampleWindow(s.pid, speakerUrl), sReady);
        if (nodeFlags) shippedIdle = await breakdown(s.pid, speakerUrl);

        const file = join(dir, 'bench-pools.json');
        writeFileSync(file, JSON.stringify(benchPools()));
        await cp.kubectlOk(['create', 'namespace', NAMESPACE]);
        const t0 = Date.now();
        await cp.kubectlOk(['create', '-f', file]);
        await createServices(cp, benchServices(SERVICES));
        log(`${SERVICES} Services and ${POOLS.length} pools created in ${Date.now() - t0} ms`);
        await waitFor(
          `all ${SERVICES} Services to have an address`,
          async () => {
            const n = await withIngress(cp);
            return n === SERVICES
              ? { done: true, value: n }
              : { done: false, observed: `${n} with an address` };
          },
          { timeoutMs: 300_000, intervalMs: 1000 },
        );
        log(`all ${SERVICES} Services have an address ${Date.now() - t0} ms after the create began`);
        row('controller', variant, `${SERVICES} Services`, await sampleWindow(c.pid, controllerUrl));
        row('speaker', variant, `${SERVICES} Services`, await sampleWindow(s.pid, speakerUrl));
        if (componentRecord(dir, controllerName)?.pid !== c.pid)
          throw new Error('the controller restarted during the run');
        await stopComponent(dir, controllerName);
        await stopComponent(dir, speakerName(SPEAKER_NODE));
        await removeBenchObjects(cp);
      }
      console.log(
        `\nMemory in the lab (max over ${WINDOW_MS} ms, sampled every 250 ms; ${SERVICES} IPv6 LoadBalancer Services over ${POOLS.length} pools; binaries and their image Node flags: ${BINARIES.map((b) => `${b.name} ${b.nodeFlags.join(' ') || '(none)'}`).join(', ')})`,
      );
      console.log(
        'Targets: speaker <= 64 MiB idle, <= 96 MiB at 1,000 Services; controller <= 96 MiB at 1,000; ready < 1000 ms',
      );
      console.table(rows);
      console.log('The speaker as shipped, idle: where its resident memory is (/proc/<pid>/smaps)');
      console.table(shippedIdle);
    },
    { components: false },
  );
}

await main();
