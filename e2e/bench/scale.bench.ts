// The controller at scale, against the lab's real API server, the controller running as its
// ServiceAccount and the three speakers watching. Runs, in one process, one table:
//   burst N      N LoadBalancer Services POSTed at once (64 in flight) across 3 pools
//   restart      the first burst again with the controller restarted (SIGTERM, new process) once
//                half of them have an address
//   burst 5N     (N = SCALE_N, default 1000; SCALE_BIG overrides the second size)
// Columns:
//   all addressed   first POST -> last Service seen with an address on a watch of the namespace
//   p50/p99         per Service: its POST answered -> its address on the watch
//   patches/svc     apiserver_request_total{resource="services",verb="PATCH"} (any subresource)
//                   delta over the run / N: only the controller patches Services here (the speakers
//                   write ServiceL2Status, kube-controller-manager does not touch Services)
//   events/svc      Event objects the controller recorded in the namespace / N
//   ctrl CPU s      utime+stime of the controller process(es) of the run (/proc/<pid>/stat), from
//                   its start (config load and the list included)
//   ctrl peak RSS   VmHWM of the controller (/proc/<pid>/status), max over the run's processes
//   speaker ms/svc  CPU of the speakers during the run / 3 / N (one Service = an ADDED and a
//                   status MODIFIED event)
// Services are IPv6 single stack (the lab's IPv4 service range has 126 cluster IPs) without node
// ports and without selectors: what is measured is the control plane, not the wire. lab-proxy
// (VIPs on kube-ipvs0) is stopped for the bench.
// Before the runs, a probe answers whether a PATCH to services/<name>/status stores
// metadata.annotations on this Kubernetes version (the controller relies on it for 1 write).
// The controller runs as its image runs it (the bundle under the binary's Node flags); with
// SCALE_CONTROLLER=dist it runs packages/controller/dist/main.js without flags instead.
// Usage: pnpm bench scale     [SCALE_N=1000] [SCALE_BIG=5000] [SCALE_RUNS=burst,restart,big]
//                             [SCALE_CONTROLLER=shipped|dist]
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { binary, bundleMain } from '../../packages/ship/src/binaries.js';
import { bundle } from '../../packages/ship/src/bundle.js';
import { applyClusterManifests, INSTALL_NAMESPACE } from '../src/cluster-setup.js';
import {
  componentRecord,
  controllerName,
  freePort,
  speakerName,
  startController,
  stopComponent,
  type ComponentOptions,
} from '../src/components.js';
import { startControlPlane, type ControlPlane } from '../src/control-plane.js';
import { kubeHttp, mapLimit, type KubeHttp } from '../src/kube-http.js';
import { Lab, LAB_PROXY } from '../src/lab.js';
import { claimLab, releaseLab } from '../src/owner.js';
import { stopAllRecorded } from '../src/processes.js';
import { waitFor } from '../src/wait-for.js';

const N = Number(process.env.SCALE_N ?? 1000);
const BIG = Number(process.env.SCALE_BIG ?? 5000);
const RUNS = (process.env.SCALE_RUNS ?? 'burst,restart,big').split(',');
const IN_FLIGHT = 64;
const SHIPPED = (process.env.SCALE_CONTROLLER ?? 'shipped') !== 'dist';
/** How the controller is started: as its image starts it (bundle + Node flags), or from dist/. */
const CONTROLLER_AS: Pick<ComponentOptions, 'mains' | 'nodeFlags'> = SHIPPED
  ? {
      mains: { controller: bundleMain(binary('controller')) },
      nodeFlags: { controller: binary('controller').nodeFlags },
    }
  : {};
const POOLS = ['scale-a', 'scale-b', 'scale-c'];
const POOL_CIDRS = ['2001:db8:5ca1:a::/112', '2001:db8:5ca1:b::/112', '2001:db8:5ca1:c::/112'];
const CLK_TCK = 100;
const log = (line: string) => process.stderr.write(`[scale] ${line}\n`);

/** utime + stime of a process in seconds, undefined once it is gone. */
function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / CLK_TCK;
  } catch {
    return undefined;
  }
}

/** VmHWM (peak resident set) in MiB. */
function peakRssMiB(pid: number): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Sum of apiserver_request_total over the lines matching every label given. */
async function requestCount(cp: ControlPlane, labels: Record<string, string>): Promise<number> {
  const r = await cp.apiGet('/metrics');
  if (r.status !== 200) throw new Error(`GET /metrics: HTTP ${r.status}`);
  let sum = 0;
  for (const line of r.body.split('\n')) {
    if (!line.startsWith('apiserver_request_total{')) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`)))
      sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;

function service(name: string, namespace: string, pool: string): unknown {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace, annotations: { 'metallb.io/address-pool': pool } },
    spec: {
      type: 'LoadBalancer',
      ipFamilies: ['IPv6'],
      ipFamilyPolicy: 'SingleStack',
      allocateLoadBalancerNodePorts: false,
      ports: [{ name: 'http', port: 80, protocol: 'TCP' }],
    },
  };
}

/**
 * Does a merge PATCH to services/<name>/status store metadata.annotations? Asked of the real API
 * server with a ClusterIP Service the controller ignores.
 */
async function probeStatusAnnotations(http: KubeHttp): Promise<string> {
  const ns = 'scale-probe';
  await http.send('POST', '/api/v1/namespaces', { metadata: { name: ns } });
  const created = await http.send('POST', `/api/v1/namespaces/${ns}/services`, {
    metadata: { name: 'probe' },
    spec: { ipFamilies: ['IPv6'], ipFamilyPolicy: 'SingleStack', ports: [{ port: 80 }] },
  });
  if (created.status !== 201) throw new Error(`probe Service: HTTP ${created.status} ${created.body}`);
  const patched = await http.send(
    'PATCH',
    `/api/v1/namespaces/${ns}/services/probe/status`,
    { metadata: { annotations: { 'metallb-ts.bench/probe': 'via-status' } } },
    'application/merge-patch+json',
  );
  const read = await http.send('GET', `/api/v1/namespaces/${ns}/services/probe`);
  const stored = (JSON.parse(read.body) as { metadata?: { annotations?: Record<string, string> } }).metadata
    ?.annotations?.['metallb-ts.bench/probe'];
  await http.send('DELETE', `/api/v1/namespaces/${ns}`);
  return `PATCH services/probe/status with only metadata.annotations: HTTP ${patched.status}; a GET of the Service then shows the annotation = ${JSON.stringify(stored ?? null)}`;
}

interface Controller {
  pid: number;
  port: number;
}

async function freshController(cp: ControlPlane, dir: string): Promise<Controller> {
  await stopComponent(dir, controllerName, 'SIGTERM');
  const port = await freePort();
  const r = await startController(cp, dir, {
    logLevel: 'info',
    controller: { metricsPort: port },
    ...CONTROLLER_AS,
  });
  if (!r.ok) throw new Error(`controller: ${r.error}`);
  await waitFor(
    'the controller to be ready (leader, caches synced)',
    async () => {
      const res = await fetch(`http://127.0.0.1:${port}/readyz`).catch((e: Error) => e);
      return !(res instanceof Error) && res.status === 200
        ? { done: true, value: undefined }
        : { done: false, observed: res instanceof Error ? res.message : res.status };
    },
    { timeoutMs: 60_000, intervalMs: 50 },
  );
  return { pid: r.value.pid, port };
}

interface Row {
  run: string;
  services: number;
  'all addressed s': number;
  'p50 ms': number;
  'p99 ms': number;
  'patches/svc': number;
  'events/svc': number;
  'ctrl CPU s': number;
  'ctrl peak RSS MiB': number;
  'speaker CPU ms/svc': number;
}

async function burst(
  cp: ControlPlane,
  http: KubeHttp,
  dir: string,
  label: string,
  n: number,
  restartHalfway: boolean,
): Promise<Row> {
  const ns = `scale-${label}`;
  const ctrl: Controller[] = [await freshController(cp, dir)];
  const speakers = ['node-1', 'node-2', 'node-3'].map((node) => componentRecord(dir, speakerName(node))!.pid);
  const speakerCpu0 = speakers.map((p) => cpuSeconds(p) ?? NaN);
  const patches0 = await requestCount(cp, { resource: 'services', verb: 'PATCH' });
  const nsCreated = await http.send('POST', '/api/v1/namespaces', { metadata: { name: ns } });
  if (nsCreated.status !== 201)
    throw new Error(`namespace ${ns}: HTTP ${nsCreated.status} ${nsCreated.body}`);

  const createdAt = new Map<string, number>();
  const addressedAt = new Map<string, number>();
  const watch = http.watch(`/api/v1/namespaces/${ns}/services`, (e) => {
    const name = e.object.metadata?.name;
    if (!name || addressedAt.has(name)) return;
    if ((e.object.status?.loadBalancer?.ingress?.length ?? 0) > 0) addressedAt.set(name, e.at);
  });
  await watch.ready;

  let restart: Promise<void> | undefined;
  let restartedAt: number | undefined;
  const restartCheck = setInterval(() => {
    if (!restartHalfway || restart || addressedAt.size < n / 2) return;
    restartedAt = performance.now();
    log(`${label}: ${addressedAt.size} addressed; restarting the controller`);
    restart = freshController(cp, dir).then((c) => {
      ctrl.push(c);
      log(`${label}: new controller ready after ${Math.round(performance.now() - restartedAt!)} ms`);
    });
  }, 5);
  // The first process's peak and CPU must be read before a restart ends it.
  const sampled = new Map<number, { cpu: number; rss: number }>();
  const sample = setInterval(() => {
    for (const c of ctrl) {
      const cpu = cpuSeconds(c.pid);
      const rss = peakRssMiB(c.pid);
      if (cpu !== undefined && rss !== undefined) sampled.set(c.pid, { cpu, rss });
    }
  }, 20);

  const names = Array.from({ length: n }, (_, i) => `svc-${i}`);
  const t0 = performance.now();
  log(`${label}: creating ${n} Services`);
  await mapLimit(names, IN_FLIGHT, async (name, i) => {
    const r = await http.send(
      'POST',
      `/api/v1/namespaces/${ns}/services`,
      service(name, ns, POOLS[i % POOLS.length]!),
    );
    if (r.status !== 201) throw new Error(`create ${ns}/${name}: HTTP ${r.status} ${r.body.slice(0, 300)}`);
    createdAt.set(name, performance.now());
  });
  log(`${label}: created in ${Math.round(performance.now() - t0)} ms; ${addressedAt.size} addressed so far`);
  await waitFor(
    `all ${n} Services of ${ns} to have an address`,
    () =>
      addressedAt.size >= n
        ? { done: true, value: undefined }
        : { done: false, observed: `${addressedAt.size} of ${n}` },
    { timeoutMs: 300_000, intervalMs: 20 },
  );
  await restart;
  clearInterval(restartCheck);
  const tAll = Math.max(...addressedAt.values()) - t0;
  // Echoes of the last writes come back and are synced: they must not write again.
  await new Promise((r) => setTimeout(r, 3_000));
  clearInterval(sample);
  for (const c of ctrl) {
    const cpu = cpuSeconds(c.pid);
    const rss = peakRssMiB(c.pid);
    if (cpu !== undefined && rss !== undefined) sampled.set(c.pid, { cpu, rss });
  }
  watch.stop();
  const patches = (await requestCount(cp, { resource: 'services', verb: 'PATCH' })) - patches0;
  const events = await http.send('GET', `/api/v1/namespaces/${ns}/events`);
  const controllerEvents = (
    JSON.parse(events.body) as { items: { source?: { component?: string } }[] }
  ).items.filter((e) => e.source?.component === 'metallb-controller').length;
  const speakerCpu = speakers.reduce((s, p, i) => s + ((cpuSeconds(p) ?? NaN) - speakerCpu0[i]!), 0);
  const latencies = names.map((x) => addressedAt.get(x)! - createdAt.get(x)!).sort((a, b) => a - b);
  const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;
  const row: Row = {
    run: restartHalfway ? `${n} burst, controller restarted at ${n / 2}` : `${n} burst`,
    services: n,
    'all addressed s': round(tAll / 1000),
    'p50 ms': Math.round(percentile(latencies, 50)),
    'p99 ms': Math.round(percentile(latencies, 99)),
    'patches/svc': round(patches / n, 3),
    'events/svc': round(controllerEvents / n, 3),
    'ctrl CPU s': round([...sampled.values()].reduce((s, v) => s + v.cpu, 0)),
    'ctrl peak RSS MiB': round(Math.max(...[...sampled.values()].map((v) => v.rss)), 1),
    'speaker CPU ms/svc': round((speakerCpu / speakers.length / n) * 1000, 3),
  };
  log(`${label}: ${JSON.stringify(row)}`);
  // Clean up before the next run: the controller frees every address as the Services go.
  await http.send('DELETE', `/api/v1/namespaces/${ns}`);
  await waitFor(
    `namespace ${ns} to be gone`,
    async () => {
      const r = await http.send('GET', `/api/v1/namespaces/${ns}`);
      return r.status === 404 ? { done: true, value: undefined } : { done: false, observed: r.status };
    },
    { timeoutMs: 300_000, intervalMs: 500 },
  );
  return row;
}

async function main(): Promise<void> {
  // The bundle of exactly the dist/ that bench.sh just built.
  if (SHIPPED)
    log(`bundled controller: ${((await bundle(binary('controller'))).bytes / 1024).toFixed(0)} KiB`);
  const dir = mkdtempSync(join(tmpdir(), 'metallb-ts-bench-'));
  await claimLab('lab', dir, { progress: log });
  let lab: Lab | undefined;
  let http: KubeHttp | undefined;
  try {
    const cp = await startControlPlane({ dir, progress: log });
    await applyClusterManifests(cp, log);
    lab = await Lab.start({ cp, progress: log, componentOptions: { logLevel: 'info' } });
    if (lab.componentErrors.size > 0)
      throw new Error(`components did not start: ${JSON.stringify([...lab.componentErrors])}`);
    await stopComponent(dir, LAB_PROXY, 'SIGTERM');
    http = kubeHttp(cp.adminKubeconfig, IN_FLIGHT);
    const probe = await probeStatusAnnotations(http);
    log(probe);
    await cp.kubectlOk(['apply', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'v1',
        kind: 'List',
        items: [
          ...POOLS.map((name, i) => ({
            apiVersion: 'metallb.io/v1beta1',
            kind: 'IPAddressPool',
            metadata: { name, namespace: INSTALL_NAMESPACE },
            spec: { addresses: [POOL_CIDRS[i]] },
          })),
          {
            apiVersion: 'metallb.io/v1beta1',
            kind: 'L2Advertisement',
            metadata: { name: 'scale', namespace: INSTALL_NAMESPACE },
            spec: { ipAddressPools: POOLS },
          },
        ],
      }),
    });
    const rows: Row[] = [];
    if (RUNS.includes('burst')) rows.push(await burst(cp, http, dir, 'burst', N, false));
    if (RUNS.includes('restart')) rows.push(await burst(cp, http, dir, 'restart', N, true));
    if (RUNS.includes('big')) rows.push(await burst(cp, http, dir, 'big', BIG, false));
    console.log(
      `\nController at scale (real kube-apiserver ${readFileSync(join(import.meta.dirname, '..', 'tools', 'K8S_VERSION'), 'utf8').trim()}, controller as its ServiceAccount ${SHIPPED ? `as shipped (bundle, ${binary('controller').nodeFlags.join(' ')})` : 'from dist/, no flags'}, 3 speakers, ${IN_FLIGHT} creates in flight, 3 pools)`,
    );
    console.log(`status-subresource probe: ${probe}`);
    console.log(
      'targets: 1,000 in < 10 s, p99 < 2 s, <= 1.5 writes/svc, RSS <= 96 MiB (1,000) / 160 MiB (5,000)',
    );
    console.table(rows);
  } catch (e) {
    if (lab) log(await lab.dump().catch(() => 'dump failed'));
    throw e;
  } finally {
    http?.close();
    await lab?.stop().catch(() => undefined);
    await stopAllRecorded(dir).catch(() => undefined);
    releaseLab(dir);
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
