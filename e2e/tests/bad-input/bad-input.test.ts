import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { collectionPath, generateStorm, type BadCase } from '../../src/bad-input.js';
import { INSTALL_NAMESPACE } from '../../src/cluster-setup.js';
import { componentRecord, componentRunning, controllerName, speakerName } from '../../src/components.js';
import { labControlPlane, type ControlPlane } from '../../src/control-plane.js';
import { kubeHttp, mapLimit, type KubeHttp } from '../../src/kube-http.js';
import { Lab, labProgressOnStderr, resetClusterObjects } from '../../src/lab.js';
import { labExitLine } from '../../src/processes.js';
import { waitFor } from '../../src/wait-for.js';

/*
 * Bad input at volume, through the real API server, while healthy Services hold addresses: a
 * seeded storm of malformed and hostile pools, advertisements and Services (BAD_INPUT_SEED
 * replays one; BAD_INPUT_COUNT, default 150). Each object is refused
 * with a message naming the broken field, or accepted and reported on the object (Valid
 * condition; Service events). The
 * controller and the speakers keep running (same processes), keep every healthy address, and a
 * Service created after the storm is served within a bound.
 */

const SEED = Number(process.env.BAD_INPUT_SEED ?? Math.floor(Math.random() * 2 ** 31));
const COUNT = Number(process.env.BAD_INPUT_COUNT ?? 150);
const NS = 'bad-input';
const HEALTHY_POOL = 'healthy';
const HEALTHY_CIDR = '2001:db8:600d::/120';
const HEALTHY = ['healthy-0', 'healthy-1', 'healthy-2', 'healthy-3', 'healthy-4'];
const NODES = ['node-1', 'node-2', 'node-3'];
const COMPONENTS = [controllerName, ...NODES.map(speakerName)];
const AFTER_STORM_BOUND_MS = 15_000;

interface Obj {
  metadata: { name: string };
  status?: {
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
    loadBalancer?: { ingress?: { ip?: string }[] };
  };
}
interface KEvent {
  reason: string;
  message: string;
  involvedObject: { name: string; kind: string };
}

let cp: ControlPlane;
let lab: Lab;
let http: KubeHttp;
const held = new Map<string, string>();
const pids = new Map<string, number>();

const healthyService = (name: string) => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: NS, annotations: { 'metallb.io/address-pool': HEALTHY_POOL } },
  spec: {
    type: 'LoadBalancer',
    ipFamilies: ['IPv6'],
    ipFamilyPolicy: 'SingleStack',
    allocateLoadBalancerNodePorts: false,
    ports: [{ port: 80, protocol: 'TCP' }],
  },
});

async function list<T>(path: string): Promise<T[]> {
  const r = await http.send('GET', path);
  if (r.status !== 200) throw new Error(`GET ${path}: HTTP ${r.status} ${r.body.slice(0, 300)}`);
  return (JSON.parse(r.body) as { items: T[] }).items;
}

const ingress = (o: Obj | undefined) => (o?.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? '');
const services = () => list<Obj>(`/api/v1/namespaces/${NS}/services`);

async function create(path: string, body: unknown): Promise<void> {
  const r = await http.send('POST', path, body);
  if (r.status !== 201) throw new Error(`POST ${path}: HTTP ${r.status} ${r.body.slice(0, 300)}`);
}

beforeAll(async () => {
  cp = labControlPlane();
  const dir = cp.dir;
  process.stderr.write(`[bad-input] seed ${SEED} (replay: BAD_INPUT_SEED=${SEED}), ${COUNT} objects\n`);
  await resetClusterObjects(cp);
  await removeNamespace();
  lab = await Lab.start({
    cp,
    progress: labProgressOnStderr,
    componentOptions: { logLevel: 'info' },
  });
  lab.assertComponentsStarted();
  http = kubeHttp(cp.adminKubeconfig, 16);
  const group = `/apis/metallb.io/v1beta1/namespaces/${INSTALL_NAMESPACE}`;
  await create(`${group}/ipaddresspools`, {
    apiVersion: 'metallb.io/v1beta1',
    kind: 'IPAddressPool',
    metadata: { name: HEALTHY_POOL },
    spec: { addresses: [HEALTHY_CIDR], autoAssign: false },
  });
  await create(`${group}/l2advertisements`, {
    apiVersion: 'metallb.io/v1beta1',
    kind: 'L2Advertisement',
    metadata: { name: HEALTHY_POOL },
    spec: { ipAddressPools: [HEALTHY_POOL] },
  });
  await create('/api/v1/namespaces', { metadata: { name: NS } });
  for (const name of HEALTHY) await create(`/api/v1/namespaces/${NS}/services`, healthyService(name));
  const addressed = await waitFor(
    'the healthy Services to have addresses',
    async () => {
      const svcs = (await services()).filter((s) => HEALTHY.includes(s.metadata.name));
      const with1 = svcs.filter((s) => ingress(s).length === 1);
      return with1.length === HEALTHY.length
        ? { done: true, value: with1 }
        : { done: false, observed: svcs.map((s) => [s.metadata.name, ingress(s)]) };
    },
    { timeoutMs: 30_000, intervalMs: 200 },
  );
  for (const s of addressed) held.set(s.metadata.name, ingress(s)[0]!);
  for (const c of COMPONENTS) pids.set(c, componentRecord(dir, c)!.pid);
}, 180_000);

/** Services first and waited for: one left in a terminating namespace would be served by the next lab. */
async function removeNamespace(): Promise<void> {
  await cp.kubectl(['-n', NS, 'delete', 'services', '--all', '--wait=true', '--timeout=120s']);
  await cp.kubectl(['delete', 'namespace', NS, '--ignore-not-found', '--wait=true', '--timeout=120s']);
}

afterAll(async () => {
  http?.close();
  if (cp) await removeNamespace();
  await lab?.stop();
}, 120_000);

interface Outcome {
  c: BadCase;
  status: number;
  message: string;
}

/** The message of a refusal: the Status object's, else the body (decode errors). */
function refusalMessage(body: string): string {
  try {
    return (JSON.parse(body) as { message?: string }).message ?? body;
  } catch {
    return body;
  }
}

const describeCase = (o: Outcome) =>
  `#${o.c.id} ${o.c.kind} ${JSON.stringify(o.c.name.slice(0, 60))} (${o.c.what}): HTTP ${o.status} ${o.message.slice(0, 300)}`;

describe(`bad input at volume (seed ${SEED})`, () => {
  let outcomes: Outcome[] = [];

  it('every object is refused with a message naming the field, or accepted; the API server never fails', async () => {
    const storm = generateStorm({
      seed: SEED,
      count: COUNT,
      poolNamespace: INSTALL_NAMESPACE,
      serviceNamespace: NS,
      healthyPool: { name: HEALTHY_POOL, cidr: HEALTHY_CIDR, held: [...held.values()] },
    });
    const started = Date.now();
    outcomes = await mapLimit(storm, 16, async (c) => {
      const r = await http.send(
        'POST',
        collectionPath(c, { poolNamespace: INSTALL_NAMESPACE, serviceNamespace: NS }),
        c.body,
      );
      return { c, status: r.status, message: r.status === 201 ? '' : refusalMessage(r.body) };
    });
    const refused = outcomes.filter((o) => o.status !== 201);
    process.stderr.write(
      `[bad-input] ${COUNT} objects in ${Date.now() - started} ms: ${COUNT - refused.length} accepted, ${refused.length} refused\n`,
    );
    const wrong = refused.filter(
      (o) =>
        ![400, 413, 422].includes(o.status) || !o.message.toLowerCase().includes(o.c.field.toLowerCase()),
    );
    expect(wrong.map(describeCase)).toEqual([]);
    // The generator must have reached the components, not only the API server's validation.
    expect(outcomes.filter((o) => o.status === 201).length).toBeGreaterThan(COUNT / 10);
  }, 120_000);

  it('every accepted pool and advertisement carries a Valid condition; the broken ones say False and why', async () => {
    const accepted = outcomes.filter((o) => o.status === 201 && o.c.kind !== 'Service');
    const plural = {
      IPAddressPool: 'ipaddresspools',
      AddressPool: 'addresspools',
      L2Advertisement: 'l2advertisements',
    };
    const missing = await waitFor(
      `a Valid condition on the ${accepted.length} accepted pool objects`,
      async () => {
        const objects = new Map<string, Obj>();
        for (const [kind, p] of Object.entries(plural))
          for (const o of await list<Obj>(`/apis/metallb.io/v1beta1/namespaces/${INSTALL_NAMESPACE}/${p}`))
            objects.set(`${kind}/${o.metadata.name}`, o);
        const bad = accepted.flatMap((o) => {
          const valid = objects
            .get(`${o.c.kind}/${o.c.name}`)
            ?.status?.conditions?.find((x) => x.type === 'Valid');
          if (!valid) return [`${describeCase(o)}: no Valid condition`];
          if (o.c.verdict === 'invalid' && (valid.status !== 'False' || !valid.message))
            return [`${describeCase(o)}: Valid ${valid.status} ${valid.reason}: ${valid.message}`];
          return [];
        });
        return bad.length === 0 ? { done: true, value: bad } : { done: false, observed: bad.slice(0, 20) };
      },
      { timeoutMs: 60_000, intervalMs: 1_000 },
    ).catch((e: Error) => [e.message]);
    expect(missing).toEqual([]);
  }, 90_000);

  it('every accepted broken Service gets a LoadBalancerFailed or AllocationFailed event naming why', async () => {
    const accepted = outcomes.filter(
      (o) => o.status === 201 && o.c.kind === 'Service' && o.c.verdict === 'invalid',
    );
    const missing = await waitFor(
      `events on the ${accepted.length} accepted broken Services`,
      async () => {
        const events = await list<KEvent>(`/api/v1/namespaces/${NS}/events`);
        const bad = accepted.flatMap((o) => {
          const mine = events.filter(
            (e) =>
              e.involvedObject.name === o.c.name &&
              ['LoadBalancerFailed', 'AllocationFailed'].includes(e.reason) &&
              (o.c.why === undefined || e.message.includes(o.c.why)),
          );
          return mine.length > 0
            ? []
            : [
                `${describeCase(o)}: no event naming ${JSON.stringify(o.c.why)}; has ${JSON.stringify(
                  events
                    .filter((e) => e.involvedObject.name === o.c.name)
                    .map((e) => `${e.reason}: ${e.message}`),
                )}`,
              ];
        });
        return bad.length === 0 ? { done: true, value: bad } : { done: false, observed: bad.slice(0, 20) };
      },
      { timeoutMs: 60_000, intervalMs: 1_000 },
    ).catch((e: Error) => [e.message]);
    expect(missing).toEqual([]);
  }, 90_000);

  it('the controller and the speakers are the same processes, still running, and every healthy Service kept its address', async () => {
    const dir = lab.dir;
    // One line per component that is not the process it was, how it ended first: CI shows only
    // the first lines of a failure.
    const changed = COMPONENTS.flatMap((c) => {
      const pid = componentRecord(dir, c)?.pid;
      if (componentRunning(dir, c) && pid === pids.get(c)) return [];
      const log = lab.logs(c, 40);
      const how = labExitLine(log) ?? 'no exit line from the lab';
      return [`${c} (pid ${pids.get(c)}, now ${pid}) not the same running process; ${how}\n${log}`];
    });
    expect(changed.join('\n')).toBe('');
    const now = new Map((await services()).map((s) => [s.metadata.name, ingress(s)]));
    expect(HEALTHY.map((n) => [n, now.get(n)])).toEqual(HEALTHY.map((n) => [n, [held.get(n)]]));
  });

  it(
    `a Service created after the storm gets its address within ${AFTER_STORM_BOUND_MS} ms`,
    async () => {
      const t0 = Date.now();
      await create(`/api/v1/namespaces/${NS}/services`, healthyService('after-storm'));
      const ip = await waitFor(
        'after-storm to get an address',
        async () => {
          const r = await http.send('GET', `/api/v1/namespaces/${NS}/services/after-storm`);
          const ips = ingress(JSON.parse(r.body) as Obj);
          return ips.length === 1 ? { done: true, value: ips[0]! } : { done: false, observed: ips };
        },
        { timeoutMs: AFTER_STORM_BOUND_MS, intervalMs: 100 },
      );
      process.stderr.write(`[bad-input] after-storm got ${ip} in ${Date.now() - t0} ms\n`);
      expect(ip.startsWith('2001:db8:600d::')).toBe(true);
      expect([...held.values()]).not.toContain(ip);
    },
    AFTER_STORM_BOUND_MS + 5_000,
  );
});
