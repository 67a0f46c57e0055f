import { describe, it, expect, beforeAll, afterAll, jest } from '@jest/globals';
import { labControlPlane, type ControlPlane } from '../../src/control-plane.js';
import { demoService, DEMO_NAMESPACE, readyEndpointAddresses } from '../../src/cluster-objects.js';
import { Lab } from '../../src/lab.js';
import { run } from '../../src/run.js';
import { CLIENT_NS, DATA_IF, LAB_NODES, topologyGone, VIP_IF } from '../../src/topology.js';

// The lab without metallb-ts components: network, Node/Pod objects, backends and the lab's
// service proxy. Each check carries a dump of the lab in its failure message.
jest.setTimeout(60_000);
let cp: ControlPlane;
let lab: Lab | undefined;
const node1 = LAB_NODES[0]!;
const node2 = LAB_NODES[1]!;

async function withDump<T>(check: () => Promise<T>): Promise<T> {
  try {
    return await check();
  } catch (e) {
    const dump = lab ? await lab.dump(20).catch((d: unknown) => String(d)) : 'no lab';
    throw new Error(`${e instanceof Error ? e.message : String(e)}\n--- lab dump ---\n${dump}`);
  }
}

beforeAll(async () => {
  cp = labControlPlane();
  lab = await Lab.start({ cp, components: false });
}, 120_000);

afterAll(async () => {
  await lab?.stop();
}, 60_000);

describe('lab topology', () => {
  it('lets the client reach every node over IPv4 and IPv6', async () => {
    for (const n of LAB_NODES) {
      for (const ip of [n.dataIp, n.dataIp6]) {
        const r = await run(['ip', 'netns', 'exec', CLIENT_NS, 'ping', '-c', '1', '-W', '2', ip]);
        expect(`${ip}: exit ${r.code}\n${r.stdout}${r.stderr}`).toMatch(/: exit 0\n/);
      }
    }
  });

  it('lets every node reach the API server over the management bridge', async () => {
    for (const n of LAB_NODES) {
      const r = await run([
        'ip',
        'netns',
        'exec',
        n.name,
        'curl',
        '-sk',
        '--max-time',
        '3',
        `${cp.server.lab}/readyz`,
      ]);
      expect(`${n.name}: ${r.stdout}${r.stderr}`).toBe(`${n.name}: ok`);
    }
  });

  it("answers HTTP on each node's data address with the node's name", async () => {
    for (const n of LAB_NODES) {
      const r = await lab!.clientCurl(`http://${n.dataIp}:8080/`);
      expect(r).toMatchObject({ ok: true, body: `${n.name}\n` });
      const r6 = await lab!.clientCurl(`http://[${n.dataIp6}]:8080/`);
      expect(r6).toMatchObject({ ok: true, body: `${n.name}\n` });
    }
  });

  it("keeps the node's kernel silent for addresses on kube-ipvs0 (ARP and NDP)", async () => {
    await withDump(async () => {
      const vip4 = '203.0.113.250';
      const vip6 = '2001:db8:1::250';
      await run(['ip', '-n', node1.name, 'addr', 'add', `${vip4}/32`, 'dev', VIP_IF]);
      await run(['ip', '-n', node1.name, 'addr', 'add', `${vip6}/128`, 'dev', VIP_IF, 'nodad']);
      try {
        // Positive control: the same tools do see the node's own data addresses. Polled: right
        // after the topology comes up, the first probe can go unanswered.
        const mac = lab!.nodeMacs.get(node1.name);
        for (const ip of [node1.dataIp, node1.dataIp6]) {
          await lab!.waitFor(
            `${node1.name} to answer for its own address ${ip}`,
            async () => {
              const r = await lab!.clientArping(ip);
              return r.macs.length === 1 && r.macs[0] === mac
                ? { done: true, value: r }
                : { done: false, observed: r };
            },
            { timeoutMs: 10_000, intervalMs: 200 },
          );
        }

        const arp = await lab!.clientArping(vip4, { count: 2 });
        expect({ macs: arp.macs, raw: arp.raw }).toMatchObject({ macs: [] });
        const nd = await lab!.clientArping(vip6, { count: 2 });
        expect({ macs: nd.macs, raw: nd.raw }).toMatchObject({ macs: [] });
      } finally {
        await run(['ip', '-n', node1.name, 'addr', 'del', `${vip4}/32`, 'dev', VIP_IF]);
        await run(['ip', '-n', node1.name, 'addr', 'del', `${vip6}/128`, 'dev', VIP_IF]);
        await lab!.flushClientNeighbours();
      }
    });
  });

  it('gets EndpointSlices from kube-controller-manager for a Service selecting the demo pods', async () => {
    await withDump(async () => {
      await cp.kubectlOk(['apply', '-f', '-'], { input: JSON.stringify(demoService({ name: 'slices' })) });
      const all = LAB_NODES.map((n) => n.dataIp).sort();
      await lab!.waitFor(
        'EndpointSlices with all three node addresses',
        async () => {
          const got = await readyEndpointAddresses(cp, DEMO_NAMESPACE, 'slices');
          return got.filter((a) => !a.includes(':')).join() === all.join()
            ? { done: true, value: got }
            : { done: false, observed: got };
        },
        { timeoutMs: 20_000 },
      );
      await lab!.setPodReady(node2.name, false);
      await lab!.waitFor(
        `node-2's endpoint to turn not ready`,
        async () => {
          const got = await readyEndpointAddresses(cp, DEMO_NAMESPACE, 'slices');
          return got.includes(node2.dataIp) ? { done: false, observed: got } : { done: true, value: got };
        },
        { timeoutMs: 20_000 },
      );
      await lab!.setPodReady(node2.name, true);
    });
  });

  it('puts LoadBalancer ingress IPs on every kube-ipvs0 and delivers VIP traffic to the local backend', async () => {
    await withDump(async () => {
      const vip = '203.0.113.240';
      await cp.kubectlOk(['apply', '-f', '-'], { input: JSON.stringify(demoService({ name: 'proxied' })) });
      const setIngress = (ips: string[]) =>
        cp.kubectlOk([
          '-n',
          DEMO_NAMESPACE,
          'patch',
          'service',
          'proxied',
          '--subresource=status',
          '--type=merge',
          '-p',
          JSON.stringify({ status: { loadBalancer: { ingress: ips.map((ip) => ({ ip })) } } }),
        ]);
      await setIngress([vip]);
      for (const n of LAB_NODES) {
        await lab!.waitFor(
          `${vip} on ${n.name}'s ${VIP_IF}`,
          async () => {
            const vips = await lab!.vipsOn(n.name);
            return vips.includes(vip) ? { done: true, value: vips } : { done: false, observed: vips };
          },
          { timeoutMs: 10_000 },
        );
      }
      // No speaker here: point the client at node-2 by hand, as an ARP answer would.
      await run([
        'ip',
        '-n',
        CLIENT_NS,
        'neigh',
        'replace',
        vip,
        'lladdr',
        lab!.nodeMacs.get(node2.name)!,
        'dev',
        DATA_IF,
      ]);
      expect(await lab!.clientCurl(`http://${vip}/`)).toMatchObject({ ok: true, body: `${node2.name}\n` });
      await setIngress([]);
      for (const n of LAB_NODES) {
        await lab!.waitFor(
          `${vip} gone from ${n.name}'s ${VIP_IF}`,
          async () => {
            const vips = await lab!.vipsOn(n.name);
            return vips.includes(vip) ? { done: false, observed: vips } : { done: true, value: vips };
          },
          { timeoutMs: 10_000 },
        );
      }
      await lab!.flushClientNeighbours();
    });
  });

  it('leaves no namespace, link or bridge behind after stop', async () => {
    await lab!.stop();
    lab = undefined;
    expect(await topologyGone()).toEqual({ gone: true, leftovers: [] });
  }, 60_000);
});
