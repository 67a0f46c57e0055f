// The controller at scale, against the lab's real API server, the controller running as its
// ServiceAccount and the three speakers watching. Runs, in one process, one table:
//   baseline     N Services POSTed with no controller running: the API server's bare create rate
//                (the speakers still watch), so the table shows what part of a burst is ours
//   burst N      N LoadBalancer Services POSTed at once (SCALE_IN_FLIGHT, default 64) across 3 pools
//   restart      the burst again with the controller restarted (SIGTERM, new process) once half of
//                them have an address
//   burst 5N     (N = SCALE_N, default 1000; SCALE_BIG overrides the second size)
// Columns:
//   load1 before    the machine's 1-minute load average before the run (the lab shares 2 cores)
//   created s       first POST -> last POST answered; POST p50/p99: one POST's round trip
//   all addressed   first POST -> last Service seen with an address on a watch of the namespace
//   p50/p99         per Service: its POST answered -> its address on the watch
//   patches/svc     apiserver_request_total{resource="services",verb="PATCH"} (any subresource)
//                   delta over the run / N: only the controller patches Services here
//   ctrl/speaker writes/svc  create/update/patch/delete requests of the controller's and the
//                   speakers' ServiceAccounts (the lab's audit log), Lease renewals left out, / N
//   events/svc      Event objects the controller recorded in the namespace / N
//   ctrl CPU s      utime+stime of the controller process(es) of the run (/proc/<pid>/stat), from
//                   its start (config load and the list included)
//   ctrl peak RSS   VmHWM of the controller (/proc/<pid>/status), max over the run's processes
//   speaker ms/svc  CPU of the speakers during the run / 3 / N (one Service = an ADDED and a
//                   status MODIFIED event)
// A second table says where the CPU went from the first POST to the run's end, per process (the
// control plane, controller, speakers, this process), the machine's busy time and what the rest
// of the machine used; a third lists the API server's requests and watch events per Service.
// Services are IPv6 single stack (the lab's IPv4 service range has 126 cluster IPs) without node
// ports and without selectors: what is measured is the control plane, not the wire. lab-proxy
// (VIPs on kube-ipvs0) is stopped for the bench.
// Before the runs, a probe answers whether a PATCH to services/<name>/status stores
// metadata.annotations on this Kubernetes version (the controller relies on it for 1 write).
// The controller runs as its image runs it (the bundle under the binary's Node flags); with
// SCALE_CONTROLLER=dist it runs packages/controller/dist/main.js without flags instead.
// Usage: pnpm bench scale     [SCALE_N=1000] [SCALE_BIG=5000] [SCALE_RUNS=baseline,burst,restart,big]
//                             [SCALE_CONTROLLER=shipped|dist] [SCALE_IN_FLIGHT=64]
//                             [SCALE_SPEAKERS=0: no speakers] [SCALE_APISERVER_PPROF=<seconds>:
//                             kube-apiserver's CPU profile of each run's first seconds, to a file]
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { binary, bundleMain } from '../../packages/ship/src/binaries.js';
import { bundle } from '../../packages/ship/src/bundle.js';
import { apiCounters, apiServerProfile, auditedWrites, perService, totals } from '../src/apiserver-usage.js';
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
import { CpuMeter, cpuSeconds, peakRssMiB, type CpuWindow } from '../src/proc-sample.js';
import { isRunning, readState, stopAllRecorded } from '../src/processes.js';
import { waitFor } from '../src/wait-for.js';

const N = Number(process.env.SCALE_N ?? 1000);
const BIG = Number(process.env.SCALE_BIG ?? 5000);
const RUNS = (process.env.SCALE_RUNS ?? 'baseline,burst,restart,big').split(',');
const IN_FLIGHT = Number(process.env.SCALE_IN_FLIGHT ?? 64);
/** SCALE_SPEAKERS=0: the speakers are stopped before the runs (what watching costs the API server). */
const SPEAKERS = process.env.SCALE_SPEAKERS !== '0';
/** SCALE_APISERVER_PPROF=<s>: a CPU profile of kube-apiserver over the first <s> seconds of each run. */
const PPROF_S = Number(process.env.SCALE_APISERVER_PPROF ?? 0);
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
const log = (line: string) => process.stderr.write(`[scale] ${line}\n`);

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

type Mode = 'baseline' | 'burst' | 'restart';

interface Row {
  run: string;
  services: number;
  'load1 before': number;
  'created s': number;
  'POST p50 ms': number;
  'POST p99 ms': number;
  'all addressed s': number | string;
  'p50 ms': number | string;
  'p99 ms': number | string;
  'patches/svc': number;
  'ctrl writes/svc': number | string;
  'speaker writes/svc': number | string;
  'events/svc': number;
  'ctrl CPU s': number | string;
  'ctrl peak RSS MiB': number | string;
  'speaker CPU ms/svc': number;
}

/** Where the CPU went from the first POST until the run's end (all addressed, or all created). */
interface CpuRow {
  run: string;
  'wall s': number;
  [process: string]: number | string;
}

const CPU_LABELS = ['kube-apiserver', 'etcd', 'kube-controller-manager', 'controller', 'speakers', 'bench'];

function cpuRow(run: string, w: CpuWindow): CpuRow {
  const round = (x: number) => Math.round(x * 100) / 100;
  const row: CpuRow = { run, 'wall s': round(w.wallS) };
  for (const l of CPU_LABELS) row[`${l} s`] = round(w.byLabel.get(l) ?? 0);
  const ours = [...w.byLabel.values()].reduce((a, b) => a + b, 0);
  // What the run would take at best if the lab had both cores to itself.
  row['lab CPU s'] = round(ours);
  row['lab CPU / 2 cores s'] = round(ours / 2);
  row['machine busy s'] = round(w.machineBusyS);
  // Busy time of processes outside the lab (other helpers, the soak's sandbox if it shares the kernel).
  row['others s'] = round(w.machineBusyS - ours);
  row['steal s'] = round(w.machineStealS);
  row['idle %'] = Math.round(100 * (1 - (w.machineBusyS + w.machineStealS) / (2 * w.wallS)));
  return row;
}

const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

/**
 * One run: N Services POSTed (IN_FLIGHT at once) into a fresh namespace. `baseline` runs no
 * controller and stops when every POST is answered: the API server's bare create rate with the
 * speakers watching as in the other runs. `burst` waits for every address; `restart` also
 * restarts the controller once half are addressed.
 */
async function burst(
  cp: ControlPlane,
  http: KubeHttp,
  dir: string,
  mode: Mode,
  label: string,
  n: number,
): Promise<{ row: Row; cpu: CpuRow; requests: string }> {
  const ns = `scale-${label}`;
  const load1 = loadavg()[0]!;
  log(
    `${label}: load average before ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
  const ctrl: Controller[] = [];
  if (mode === 'baseline') await stopComponent(dir, controllerName, 'SIGTERM');
  else ctrl.push(await freshController(cp, dir));
  const speakers = ['node-1', 'node-2', 'node-3'].flatMap((node) => {
    const r = componentRecord(dir, speakerName(node));
    return r && isRunning(r) ? [r.pid] : [];
  });
  const speakerCpu0 = speakers.map((p) => cpuSeconds(p) ?? NaN);
  const counters0 = await apiCounters(cp);
  const wallStart = Date.now();
  const nsCreated = await http.send('POST', '/api/v1/namespaces', { metadata: { name: ns } });
  if (nsCreated.status !== 201)
    throw new Error(`namespace ${ns}: HTTP ${nsCreated.status} ${nsCreated.body}`);

  const postedAt = new Map<string, number>();
  const createdAt = new Map<string, number>();
  const addressedAt = new Map<string, number>();
  const watch = http.watch(`/api/v1/namespaces/${ns}/services`, (e) => {
    const name = e.object.metadata?.name;
    if (!name || addressedAt.has(name)) return;
    if ((e.object.status?.loadBalancer?.ingress?.length ?? 0) > 0) addressedAt.set(name, e.at);
  });
  await watch.ready;

  const meter = new CpuMeter();
  const state = readState(dir).processes;
  for (const l of ['kube-apiserver', 'etcd', 'kube-controller-manager'])
    if (state[l]) meter.add(l, state[l].pid);
  for (const p of speakers) meter.add('speakers', p);
  for (const c of ctrl) meter.add('controller', c.pid);
  meter.add('bench', process.pid);

  let restart: Promise<void> | undefined;
  let restartedAt: number | undefined;
  const restartCheck = setInterval(() => {
    if (mode !== 'restart' || restart || addressedAt.size < n / 2) return;
    restartedAt = performance.now();
    log(`${label}: ${addressedAt.size} addressed; restarting the controller`);
    restart = freshController(cp, dir).then((c) => {
      ctrl.push(c);
      meter.add('controller', c.pid);
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
  const profile = PPROF_S > 0 ? apiServerProfile(cp, label, PPROF_S) : undefined;
  const t0 = performance.now();
  log(`${label}: creating ${n} Services`);
  await mapLimit(names, IN_FLIGHT, async (name, i) => {
    postedAt.set(name, performance.now());
    const r = await http.send(
      'POST',
      `/api/v1/namespaces/${ns}/services`,
      service(name, ns, POOLS[i % POOLS.length]!),
    );
    if (r.status !== 201) throw new Error(`create ${ns}/${name}: HTTP ${r.status} ${r.body.slice(0, 300)}`);
    createdAt.set(name, performance.now());
  });
  const tCreated = performance.now() - t0;
  log(`${label}: created in ${Math.round(tCreated)} ms; ${addressedAt.size} addressed so far`);
  if (mode !== 'baseline')
    await waitFor(
      `all ${n} Services of ${ns} to have an address`,
      () =>
        addressedAt.size >= n
          ? { done: true, value: undefined }
          : { done: false, observed: `${addressedAt.size} of ${n}` },
      { timeoutMs: 300_000 * Math.max(1, n / 1000), intervalMs: 20 },
    );
  await restart;
  clearInterval(restartCheck);
  const cpu = cpuRow(label, meter.stop());
  // After the CPU window: a profile longer than the run must not stretch it.
  if (profile)
    log(
      `${label}: kube-apiserver CPU profile of the first ${PPROF_S} s: ${await profile} (go tool pprof -top ${cp.binDir}/kube-apiserver <file>)`,
    );
  const tAll = mode === 'baseline' ? NaN : Math.max(...addressedAt.values()) - t0;
  // Echoes of the last writes come back and are synced: they must not write again.
  await new Promise((r) => setTimeout(r, 3_000));
  clearInterval(sample);
  for (const c of ctrl) {
    const cpu = cpuSeconds(c.pid);
    const rss = peakRssMiB(c.pid);
    if (cpu !== undefined && rss !== undefined) sampled.set(c.pid, { cpu, rss });
  }
  watch.stop();
  const counters1 = await apiCounters(cp);
  const patches = [...counters1]
    .filter(([k]) => k.startsWith('PATCH services'))
    .reduce((sum, [k, v]) => sum + v - (counters0.get(k) ?? 0), 0);
  const requests = perService(counters0, counters1, n);
  log(`${label}: over the run: ${totals(counters0, counters1)}`);
  const writes = auditedWrites(cp, wallStart);
  log(
    `${label}: writes by our ServiceAccounts (audit log): ${JSON.stringify(writes?.byKind ?? 'no audit log')}`,
  );
  const events = await http.send('GET', `/api/v1/namespaces/${ns}/events`);
  const controllerEvents = (
    JSON.parse(events.body) as { items: { source?: { component?: string } }[] }
  ).items.filter((e) => e.source?.component === 'metallb-controller').length;
  const speakerCpu = speakers.reduce((s, p, i) => s + ((cpuSeconds(p) ?? NaN) - speakerCpu0[i]!), 0);
  const sorted = (f: (x: string) => number) => names.map(f).sort((a, b) => a - b);
  const posts = sorted((x) => createdAt.get(x)! - postedAt.get(x)!);
  const latencies = sorted((x) => addressedAt.get(x)! - createdAt.get(x)!);
  const none = '-';
  const row: Row = {
    run: {
      baseline: `${n} creates, no controller`,
      burst: `${n} burst`,
      restart: `${n} burst, controller restarted at ${n / 2}`,
    }[mode],
    services: n,
    'load1 before': round(load1),
    'created s': round(tCreated / 1000),
    'POST p50 ms': Math.round(percentile(posts, 50)),
    'POST p99 ms': Math.round(percentile(posts, 99)),
    'all addressed s': mode === 'baseline' ? none : round(tAll / 1000),
    'p50 ms': mode === 'baseline' ? none : Math.round(percentile(latencies, 50)),
    'p99 ms': mode === 'baseline' ? none : Math.round(percentile(latencies, 99)),
    'patches/svc': round(patches / n, 3),
    'ctrl writes/svc': writes ? round(writes.controller / n, 3) : none,
    'speaker writes/svc': writes ? round(writes.speaker / n, 3) : none,
    'events/svc': round(controllerEvents / n, 3),
    'ctrl CPU s': mode === 'baseline' ? none : round([...sampled.values()].reduce((s, v) => s + v.cpu, 0)),
    'ctrl peak RSS MiB':
      mode === 'baseline' ? none : round(Math.max(...[...sampled.values()].map((v) => v.rss)), 1),
    'speaker CPU ms/svc': round((speakerCpu / speakers.length / n) * 1000, 3),
  };
  log(`${label}: ${JSON.stringify(row)}`);
  log(`${label}: CPU ${JSON.stringify(cpu)}`);
  log(`${label}: API server per Service: ${requests}`);
  // Clean up before the next run: the controller frees every address as the Services go.
  await http.send('DELETE', `/api/v1/namespaces/${ns}`);
  await waitFor(
    `namespace ${ns} to be gone`,
    async () => {
      const r = await http.send('GET', `/api/v1/namespaces/${ns}`);
      return r.status === 404 ? { done: true, value: undefined } : { done: false, observed: r.status };
    },
    { timeoutMs: 300_000 * Math.max(1, n / 1000), intervalMs: 500 },
  );
  return { row, cpu, requests };
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
    lab.assertComponentsStarted();
    await stopComponent(dir, LAB_PROXY, 'SIGTERM');
    if (!SPEAKERS)
      for (const node of ['node-1', 'node-2', 'node-3'])
        await stopComponent(dir, speakerName(node), 'SIGTERM');
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
    const runs: { row: Row; cpu: CpuRow; requests: string }[] = [];
    if (RUNS.includes('baseline')) runs.push(await burst(cp, http, dir, 'baseline', 'baseline', N));
    if (RUNS.includes('burst')) runs.push(await burst(cp, http, dir, 'burst', 'burst', N));
    if (RUNS.includes('restart')) runs.push(await burst(cp, http, dir, 'restart', 'restart', N));
    if (RUNS.includes('big')) runs.push(await burst(cp, http, dir, 'burst', 'big', BIG));
    console.log(
      `\nController at scale (real kube-apiserver ${readFileSync(join(import.meta.dirname, '..', 'tools', 'K8S_VERSION'), 'utf8').trim()}, controller as its ServiceAccount ${SHIPPED ? `as shipped (bundle, ${binary('controller').nodeFlags.join(' ')})` : 'from dist/, no flags'}, 3 speakers, ${IN_FLIGHT} creates in flight, 3 pools)`,
    );
    console.log(`status-subresource probe: ${probe}`);
    console.log(
      'targets: 1,000 in < 10 s, p99 < 2 s, <= 1.5 writes/svc, RSS <= 96 MiB (1,000) / 160 MiB (5,000)',
    );
    console.table(runs.map((r) => r.row));
    console.log(
      "CPU seconds from the first POST to the run's end (all addressed; baseline: all created), 2 cores",
    );
    console.table(runs.map((r) => r.cpu));
    console.log(
      'API server requests and watch events sent, per Service (apiserver_request_total, apiserver_watch_events_total)',
    );
    for (const r of runs) console.log(`  ${r.row.run}: ${r.requests}`);
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
