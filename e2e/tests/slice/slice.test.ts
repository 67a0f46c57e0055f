import { setTimeout } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { electNode } from '@metallb-ts/speaker';
import { applyDemo, DEMO_NAMESPACE, demoService, waitForIngress } from '../../src/cluster-objects.js';
import { labControlPlane, type ControlPlane } from '../../src/control-plane.js';
import { Lab, labProgressOnStderr } from '../../src/lab.js';
import { CLIENT_NS } from '../../src/topology.js';
import { INSTALL_NAMESPACE } from '../../src/cluster-setup.js';

/*
 * The first slice, end to end against the real API server and real Ethernet between namespaces:
 * pool -> IP in the Service status -> one node answers ARP -> curl reaches it -> its speaker is
 * SIGKILLed -> the next node takes over and gratuitous ARP moves the client's neighbour entry ->
 * deleting the Service frees the address and ARP goes silent.
 */

const NODES = ['node-1', 'node-2', 'node-3'];
let cp: ControlPlane;
let lab: Lab;

async function kubectlJson<T>(args: string[]): Promise<T> {
  return JSON.parse(await cp.kubectlOk([...args, '-o', 'json'])) as T;
}

interface EventList {
  items: { reason: string; message: string; type: string; involvedObject: { kind: string; name: string } }[];
}

async function eventsFor(namespace: string, kind: string, name: string): Promise<EventList['items']> {
  const list = await kubectlJson<EventList>([
    '-n',
    namespace,
    'get',
    'events',
    '--field-selector',
    `involvedObject.kind=${kind},involvedObject.name=${name}`,
  ]);
  return list.items;
}

/** Waits until exactly one ServiceL2Status names demo/demo, written for `node`. */
async function l2StatusNames(node: string): Promise<void> {
  await lab.waitFor(
    `one ServiceL2Status for demo/demo on ${node}`,
    async () => {
      const list = await kubectlJson<{
        items: { status?: { node?: string; serviceName?: string; interfaces?: { name: string }[] } }[];
      }>([
        '-n',
        INSTALL_NAMESPACE,
        'get',
        'servicel2statuses.metallb.io',
        '-l',
        'metallb.io/service-name=demo,metallb.io/service-namespace=demo',
      ]);
      const nodes = list.items.map((i) => i.status?.node);
      return nodes.length === 1 &&
        nodes[0] === node &&
        list.items[0]?.status?.interfaces?.[0]?.name === 'data0'
        ? { done: true, value: undefined }
        : { done: false, observed: list.items };
    },
    { timeoutMs: 15_000 },
  );
}

beforeAll(async () => {
  cp = labControlPlane();
  lab = await Lab.start({ cp, progress: labProgressOnStderr });
  lab.assertComponentsStarted();
}, 180_000);

afterAll(async () => {
  await lab?.stop();
}, 60_000);

describe('layer 2 slice', () => {
  it('allocates, announces from the elected node only, fails over on SIGKILL, and frees on delete', async () => {
    await applyDemo(cp);
    const [vip] = await lab.step('service gets an address', () =>
      waitForIngress(cp, DEMO_NAMESPACE, 'demo', 30_000),
    );
    expect(vip).toMatch(/^203\.0\.113\.(20\d|21\d|220)$/);

    await lab.step('status, annotation and IPAllocated event', async () => {
      const svc = await kubectlJson<{ metadata: { annotations?: Record<string, string> } }>([
        '-n',
        DEMO_NAMESPACE,
        'get',
        'service',
        'demo',
      ]);
      expect(svc.metadata.annotations?.['metallb.io/ip-allocated-from-pool']).toBe('demo');
      await lab.waitFor(
        'an IPAllocated event on the Service',
        async () => {
          const events = await eventsFor(DEMO_NAMESPACE, 'Service', 'demo');
          return events.some((e) => e.reason === 'IPAllocated' && e.message.includes(vip!))
            ? { done: true, value: true }
            : { done: false, observed: events };
        },
        { timeoutMs: 10_000 },
      );
    });

    const elected = electNode(NODES, vip!)!;
    const electedMac = lab.nodeMacs.get(elected)!;
    await lab.step(`only the elected node (${elected}) answers ARP`, async () => {
      await lab.waitFor(
        `ARP for ${vip} answered by ${elected}`,
        async () => {
          const r = await lab.clientArping(vip!, { count: 1, timeoutMs: 1000 });
          return r.macs.length === 1 && r.macs[0] === electedMac
            ? { done: true, value: r }
            : { done: false, observed: r };
        },
        { timeoutMs: 20_000, intervalMs: 100 },
      );
      // Ask several more times: a second MAC ever answering is a split brain.
      const again = await lab.clientArping(vip!, { count: 4, timeoutMs: 500 });
      expect(again.macs.filter((m) => m !== electedMac)).toEqual([]);
    });

    await lab.step('curl to the VIP reaches the announcing node', async () => {
      const r = await lab.waitFor(
        'curl to the VIP',
        async () => {
          const c = await lab.clientCurl(`http://${vip}/`, { timeoutMs: 2000 });
          return c.ok ? { done: true, value: c } : { done: false, observed: c };
        },
        { timeoutMs: 15_000 },
      );
      expect(r.body.trim()).toBe(elected);
      expect((await lab.clientNeighbour(vip!)).mac).toBe(electedMac);
    });

    await lab.step('the announcing speaker records a ServiceL2Status', () => l2StatusNames(elected));

    const successor = electNode(
      NODES.filter((n) => n !== elected),
      vip!,
    )!;
    const successorMac = lab.nodeMacs.get(successor)!;
    await lab.step(`SIGKILL of ${elected}'s speaker moves the VIP to ${successor}`, async () => {
      expect(await lab.killSpeaker(elected, 'SIGKILL')).toBe(true);
      // The client does not ask: only the successor's gratuitous ARP can move its entry.
      await lab.waitFor(
        `client's neighbour entry for ${vip} to move to ${successor} (${successorMac})`,
        async () => {
          const n = await lab.clientNeighbour(vip!);
          return n.mac === successorMac ? { done: true, value: n } : { done: false, observed: n };
        },
        { timeoutMs: 15_000, intervalMs: 100 },
      );
      const c = await lab.clientCurl(`http://${vip}/`, { timeoutMs: 3000 });
      expect(c.body.trim()).toBe(successor);
      const r = await lab.clientArping(vip!, { count: 3, timeoutMs: 500 });
      expect(r.macs.filter((m) => m !== successorMac)).toEqual([]);
      await l2StatusNames(successor);
    });

    await lab.step('deleting the Service frees the address and ARP goes silent', async () => {
      await cp.kubectlOk(['-n', DEMO_NAMESPACE, 'delete', 'service', 'demo', '--wait=true']);
      await lab.waitFor(
        `nobody to answer ARP for ${vip}`,
        async () => {
          const r = await lab.clientArping(vip!, { count: 2, timeoutMs: 500 });
          return r.macs.length === 0 ? { done: true, value: r } : { done: false, observed: r };
        },
        { timeoutMs: 15_000 },
      );
      // Freed: a new Service that asks for exactly that address gets it (a held one would be refused).
      await cp.kubectlOk(['apply', '-f', '-'], {
        input: JSON.stringify(demoService({ annotations: { 'metallb.io/loadBalancerIPs': vip! } })),
      });
      const [again] = await waitForIngress(cp, DEMO_NAMESPACE, 'demo', 30_000);
      expect(again).toBe(vip);
    });
  }, 180_000);

  it('reports a bad pool on the object (field, value, reason) while other pools keep working', async () => {
    await lab.step('apply pools', async () => {
      await cp.kubectlOk(['apply', '-f', '-'], {
        input: JSON.stringify({
          apiVersion: 'v1',
          kind: 'List',
          items: [
            {
              apiVersion: 'metallb.io/v1beta1',
              kind: 'IPAddressPool',
              metadata: { name: 'backwards', namespace: INSTALL_NAMESPACE },
              spec: { addresses: ['203.0.113.20-203.0.113.10'] },
            },
            {
              apiVersion: 'metallb.io/v1beta1',
              kind: 'IPAddressPool',
              metadata: { name: 'overlaps', namespace: INSTALL_NAMESPACE },
              spec: { addresses: ['203.0.113.210/31'] },
            },
          ],
        }),
      });
    });
    await lab.step('InvalidConfiguration events name field, value and reason', async () => {
      for (const [name, needle] of [
        ['backwards', '203.0.113.20-203.0.113.10'],
        ['overlaps', 'demo'],
      ] as const) {
        await lab.waitFor(
          `an InvalidConfiguration event on IPAddressPool ${name}`,
          async () => {
            const events = await eventsFor(INSTALL_NAMESPACE, 'IPAddressPool', name);
            const e = events.find((x) => x.reason === 'InvalidConfiguration');
            return e && e.message.includes('spec.addresses') && e.message.includes(needle)
              ? { done: true, value: e }
              : { done: false, observed: events };
          },
          { timeoutMs: 15_000 },
        );
      }
    });
    await lab.step(
      'an unknown pool gets AllocationFailed naming it; the demo pool still allocates',
      async () => {
        await cp.kubectlOk(['apply', '-f', '-'], {
          input: JSON.stringify({
            apiVersion: 'v1',
            kind: 'List',
            items: [
              {
                apiVersion: 'v1',
                kind: 'Service',
                metadata: {
                  name: 'lost',
                  namespace: DEMO_NAMESPACE,
                  annotations: { 'metallb.io/address-pool': 'no-such-pool' },
                },
                spec: {
                  type: 'LoadBalancer',
                  selector: { app: 'demo' },
                  ports: [{ port: 81, targetPort: 8080 }],
                },
              },
              {
                apiVersion: 'v1',
                kind: 'Service',
                metadata: { name: 'fine', namespace: DEMO_NAMESPACE },
                spec: {
                  type: 'LoadBalancer',
                  selector: { app: 'demo' },
                  ports: [{ port: 82, targetPort: 8080 }],
                },
              },
            ],
          }),
        });
        await lab.waitFor(
          'AllocationFailed on demo/lost',
          async () => {
            const events = await eventsFor(DEMO_NAMESPACE, 'Service', 'lost');
            return events.some((e) => e.reason === 'AllocationFailed' && e.message.includes('no-such-pool'))
              ? { done: true, value: true }
              : { done: false, observed: events };
          },
          { timeoutMs: 15_000 },
        );
        const [ip] = await waitForIngress(cp, DEMO_NAMESPACE, 'fine', 15_000);
        expect(ip).toMatch(/^203\.0\.113\.2\d\d$/);
      },
    );
  }, 120_000);

  it('a speaker survives malformed frames on the wire and keeps answering', async () => {
    const [vip] = await waitForIngress(cp, DEMO_NAMESPACE, 'demo', 15_000);
    const owner = await lab.step('find the announcing node', () =>
      lab.waitFor(
        'an ARP answer',
        async () => {
          const r = await lab.clientArping(vip!, { count: 1, timeoutMs: 1000 });
          const node = lab.nodeForMac(r.macs[0]);
          return r.macs.length === 1 && node ? { done: true, value: node } : { done: false, observed: r };
        },
        { timeoutMs: 20_000 },
      ),
    );
    await lab.step('blast truncated and random ARP/ICMPv6 frames from the client', async () => {
      // Random bodies behind real ARP and IPv6 EtherTypes, broadcast and to the solicited-node MAC,
      // so they pass the speaker's BPF filter where they can and reach the decoder.
      const script = [
        'import os, socket, random',
        's = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)',
        "s.bind(('data0', 0))",
        'src = bytes.fromhex("020000000099")',
        'for i in range(3000):',
        '    dst = random.choice([b"\\xff"*6, bytes.fromhex("3333ff000000")])',
        '    et = random.choice([b"\\x08\\x06", b"\\x86\\xdd", b"\\x81\\x00"])',
        '    body = os.urandom(random.randint(0, 90))',
        '    if et == b"\\x86\\xdd" and len(body) > 41: body = body[:6] + b"\\x3a\\xff" + body[8:40] + b"\\x87" + body[41:]',
        '    s.send(dst + src + et + body)',
      ].join('\n');
      const r = await lab.nsExec(CLIENT_NS, ['python3', '-c', script], 30_000);
      expect(r.code).toBe(0);
    });
    await lab.step('the speaker still runs and answers', async () => {
      expect(lab.running(`speaker-${owner}`)).toBe(true);
      const mac = lab.nodeMacs.get(owner);
      await lab.waitFor(
        `${owner} to answer ARP for ${vip} again`,
        async () => {
          const r = await lab.clientArping(vip!, { count: 1, timeoutMs: 1000 });
          return r.macs.length === 1 && r.macs[0] === mac
            ? { done: true, value: r }
            : { done: false, observed: r };
        },
        { timeoutMs: 10_000 },
      );
    });
  }, 90_000);

  it('after its data link flaps (down ~1 s, then up) the announcing node answers ARP again within seconds', async () => {
    const [vip] = await waitForIngress(cp, DEMO_NAMESPACE, 'demo', 15_000);
    const owner = await lab.step('find the announcing node', () =>
      lab.waitFor(
        'an ARP answer',
        async () => {
          const r = await lab.clientArping(vip!, { count: 1, timeoutMs: 1000 });
          const node = lab.nodeForMac(r.macs[0]);
          return r.macs.length === 1 && node ? { done: true, value: node } : { done: false, observed: r };
        },
        { timeoutMs: 20_000 },
      ),
    );
    const mac = lab.nodeMacs.get(owner);
    await lab.step(`flap ${owner}'s data link`, async () => {
      await lab.setDataLink(owner, false);
      // The stimulus, not a wait for an outcome: as long a cable pull as the soak's that found the bug.
      await setTimeout(1_100);
      await lab.setDataLink(owner, true);
      await lab.flushClientNeighbours(vip);
    });
    await lab.step(`${owner} answers ARP for ${vip} again`, async () => {
      // One link check (1 s) plus the link's own settling; the full rescan (10 s) must not be needed.
      const r = await lab.waitFor(
        `${owner} to answer ARP for ${vip} after the flap`,
        async () => {
          const a = await lab.clientArping(vip!, { count: 1, timeoutMs: 500 });
          return a.macs.length === 1 && a.macs[0] === mac
            ? { done: true, value: a }
            : { done: false, observed: a };
        },
        { timeoutMs: 8_000, intervalMs: 100 },
      );
      expect(r.macs).toEqual([mac]);
      const reopened = lab
        .logs(`speaker-${owner}`, 400)
        .split('\n')
        .filter((l) => l.includes('"reopening capture"') && l.includes('"data0"'));
      expect(reopened).not.toEqual([]);
      // Still answering a while later (not a one-off from a capture about to go deaf).
      const again = await lab.clientArping(vip!, { count: 3, timeoutMs: 500 });
      expect(again.macs).toEqual([mac]);
    });
  }, 90_000);
});
