import { describe, it, expect, beforeAll, afterAll, jest } from '@jest/globals';
import { LEASES } from '@metallb-ts/manifests';
import { labControlPlane, type ControlPlane } from '../../src/control-plane.js';
import { serviceAccountKubeconfig } from '../../src/credentials.js';
import type { RunResult } from '../../src/run.js';
import { apiRequest, type ApiResponse } from '../../src/api-request.js';

// Components run as their ServiceAccounts; these tests prove the RBAC in config/rbac grants what
// they need and refuses the rest.
const ns = 'rbac-test';
jest.setTimeout(60_000);
let cp: ControlPlane;
let speaker: string;
let controller: string;

const show = (r: RunResult): string => `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;
// Matching on the whole transcript makes a failure print what kubectl said.
const expectAllowed = (r: RunResult): void => expect(show(r)).toMatch(/^exit 0\n/);
const expectForbidden = (r: RunResult): void => expect(show(r)).toMatch(/^exit 1\n[\s\S]*\(Forbidden\)/);

const statusPath = `/api/v1/namespaces/${ns}/services/web/status`;
const ingressPatch = { status: { loadBalancer: { ingress: [{ ip: '203.0.113.250' }] } } };
const expectStatus = (r: ApiResponse, status: number): void =>
  expect(`${r.status} ${r.body}`).toMatch(new RegExp(`^${status} `));

beforeAll(async () => {
  cp = labControlPlane();
  speaker = await serviceAccountKubeconfig(cp, 'metallb-system', 'speaker', cp.server.local);
  controller = await serviceAccountKubeconfig(cp, 'metallb-system', 'controller', cp.server.local);
  await cp.kubectl(['create', 'namespace', ns]);
  await cp.kubectlOk(['-n', ns, 'create', 'service', 'loadbalancer', 'web', '--tcp=80:8080']);
}, 60_000);

afterAll(async () => {
  // The Service first, synchronously: left in a terminating namespace, a later test's controller
  // would find it holding an address from no pool and give it one from that test's pool.
  await cp?.kubectl(['-n', ns, 'delete', 'service', 'web', '--ignore-not-found', '--wait=true']);
  await cp?.kubectl(['delete', 'namespace', ns, '--wait=false']);
});

describe('speaker ServiceAccount', () => {
  it('authenticates with its TokenRequest token', async () => {
    const r = await cp.kubectl(['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}'], {
      kubeconfig: speaker,
    });
    expectAllowed(r);
    expect(r.stdout).toBe('system:serviceaccount:metallb-system:speaker');
  });

  it('may read services, nodes, endpointslices and its gossip key', async () => {
    expectAllowed(await cp.kubectl(['get', 'services', '-A'], { kubeconfig: speaker }));
    expectAllowed(await cp.kubectl(['get', 'nodes'], { kubeconfig: speaker }));
    expectAllowed(
      await cp.kubectl(['get', 'endpointslices.discovery.k8s.io', '-A'], { kubeconfig: speaker }),
    );
    // list/watch limited by name: the request must select the one Secret.
    expectAllowed(
      await cp.kubectl(
        ['-n', 'metallb-system', 'get', 'secrets', '--field-selector', 'metadata.name=memberlist'],
        { kubeconfig: speaker },
      ),
    );
  });

  it("touches no Lease but the two-node tie-break's: it may not read, take or delete another", async () => {
    // `create` cannot be limited by name (the tie-break Lease is created on demand); every other
    // verb is granted on the tie-break Lease alone, so the controller's election is out of reach.
    for (const args of [
      ['get', 'lease', LEASES.controller],
      ['delete', 'lease', LEASES.controller, '--dry-run=server'],
      ['patch', 'lease', LEASES.controller, '--type=merge', '-p', '{"spec":{"holderIdentity":"speaker"}}'],
    ])
      expectForbidden(await cp.kubectl(['-n', 'metallb-system', ...args], { kubeconfig: speaker }));
  });

  it('is refused (403) what it was not granted', async () => {
    expectForbidden(await cp.kubectl(['-n', 'metallb-system', 'get', 'secrets'], { kubeconfig: speaker }));
    expectStatus(await apiRequest(speaker, 'PATCH', statusPath, ingressPatch), 403);
    expectForbidden(
      await cp.kubectl(['-n', ns, 'delete', 'service', 'web', '--dry-run=server'], { kubeconfig: speaker }),
    );
    expectForbidden(await cp.kubectl(['-n', 'default', 'get', 'leases'], { kubeconfig: speaker }));
  });
});

describe('controller ServiceAccount', () => {
  it('may write a Service status', async () => {
    expectStatus(await apiRequest(controller, 'PATCH', statusPath, ingressPatch), 200);
    const ip = await cp.kubectlOk([
      '-n',
      ns,
      'get',
      'service',
      'web',
      '-o',
      'jsonpath={.status.loadBalancer.ingress[0].ip}',
    ]);
    expect(ip).toBe('203.0.113.250');
  });

  it('is refused nodes, pods and secrets', async () => {
    expectForbidden(await cp.kubectl(['get', 'nodes'], { kubeconfig: controller }));
    expectForbidden(await cp.kubectl(['-n', ns, 'get', 'pods'], { kubeconfig: controller }));
    expectForbidden(await cp.kubectl(['-n', 'metallb-system', 'get', 'secrets'], { kubeconfig: controller }));
  });
});
