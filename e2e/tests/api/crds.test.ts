import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { crds } from '@metallb-ts/api';
import { labControlPlane, type ControlPlane } from '../../src/control-plane.js';
import { INSTALL_NAMESPACE } from '../../src/cluster-setup.js';

/*
 * The generated CRDs against the real API server: what MetalLB users write applies unchanged,
 * what is malformed is refused by schema validation with the field named, and `kubectl get`
 * shows the printer columns. No controller runs here; the objects are deleted afterwards.
 */

let cp: ControlPlane;
const NS = INSTALL_NAMESPACE;
const LABEL = 'metallb-ts.e2e/suite=crds';

beforeAll(() => {
  cp = labControlPlane();
});

afterAll(async () => {
  for (const kind of [
    'ipaddresspools.metallb.io',
    'l2advertisements.metallb.io',
    'addresspools.metallb.io',
  ]) {
    await cp?.kubectl(['-n', NS, 'delete', kind, '-l', LABEL, '--ignore-not-found']);
  }
}, 60_000);

/** `kubectl apply` of a YAML document as a user would type it; never throws. */
const apply = (yaml: string) => cp.kubectl(['apply', '-f', '-'], { input: yaml });

/** The manifests are written as YAML on purpose: that is what users copy from the documentation. */
const USER_MANIFESTS = `
# A pool mixing a CIDR, a range and an IPv6 CIDR, the shape of the documentation's first example.
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata:
  name: docs-first-pool
  namespace: ${NS}
  labels: { metallb-ts.e2e/suite: crds, zone: east }
spec:
  addresses:
  - 192.0.2.0/26
  - 192.0.2.100-192.0.2.110
  - fc00:f853:ccd:e799::/124
---
# An "expensive" pool: only services that ask for it by name.
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata:
  name: docs-expensive
  namespace: ${NS}
  labels: { metallb-ts.e2e/suite: crds }
spec:
  addresses:
  - 192.0.2.128/30
  autoAssign: false
---
# IPv6 only, single addresses and a range with spaces around the dash.
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata:
  name: docs-ipv6
  namespace: ${NS}
  labels: { metallb-ts.e2e/suite: crds }
spec:
  addresses:
  - 2001:db8:42::/64
  - 2001:db8:43::5/128
  - 2001:db8:44::1 - 2001:db8:44::ff
  avoidBuggyIPs: true
---
# Pool with a serviceAllocation block (priority, namespaces, namespace and service selectors).
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata:
  name: docs-team-pool
  namespace: ${NS}
  labels: { metallb-ts.e2e/suite: crds }
spec:
  addresses:
  - 192.0.2.192/27
  serviceAllocation:
    priority: 50
    namespaces:
    - team-a
    - team-b
    namespaceSelectors:
    - matchLabels:
        team: c
    serviceSelectors:
    - matchExpressions:
      - {key: app, operator: In, values: [web]}
---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata:
  name: docs-default
  namespace: ${NS}
  labels: { metallb-ts.e2e/suite: crds }
---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata:
  name: docs-pinned
  namespace: ${NS}
  labels: { metallb-ts.e2e/suite: crds }
spec:
  ipAddressPools:
  - docs-first-pool
  - docs-expensive
  interfaces:
  - eth0
  - eth1
  nodeSelectors:
  - matchLabels:
      kubernetes.io/hostname: worker-a
  - matchExpressions:
    - key: node-role.kubernetes.io/edge
      operator: Exists
---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata:
  name: docs-by-selector
  namespace: ${NS}
  labels: { metallb-ts.e2e/suite: crds }
spec:
  ipAddressPoolSelectors:
  - matchExpressions:
    - key: zone
      operator: In
      values: [east, west]
---
# The original pool API (MetalLB Operator), both served versions.
apiVersion: metallb.io/v1beta1
kind: AddressPool
metadata:
  name: docs-legacy-l2
  namespace: ${NS}
  labels: { metallb-ts.e2e/suite: crds }
spec:
  protocol: layer2
  addresses:
  - 198.18.0.0/28
---
apiVersion: metallb.io/v1alpha1
kind: AddressPool
metadata:
  name: docs-legacy-alpha
  namespace: ${NS}
  labels: { metallb-ts.e2e/suite: crds }
spec:
  protocol: layer2
  addresses:
  - 198.18.1.10-198.18.1.20
  autoAssign: false
`;

describe('generated CRDs on the real API server', () => {
  it('every generated CRD is installed and Established', async () => {
    const names = crds()
      .map((c) => (c as { metadata: { name: string } }).metadata.name)
      .sort();
    expect(names).toEqual(
      expect.arrayContaining([
        'addresspools.metallb.io',
        'ipaddresspools.metallb.io',
        'l2advertisements.metallb.io',
      ]),
    );
    for (const name of names) {
      const out = JSON.parse(await cp.kubectlOk(['get', 'crd', name, '-o', 'json'])) as {
        status?: { conditions?: { type: string; status: string }[] };
      };
      const established = out.status?.conditions?.find((c) => c.type === 'Established');
      expect({ name, established: established?.status }).toEqual({ name, established: 'True' });
    }
  });

  it('the documentation-style manifests apply unchanged, and read back as written (defaults filled in)', async () => {
    const r = await apply(USER_MANIFESTS);
    if (r.code !== 0) throw new Error(`kubectl apply failed (${r.code}):\n${r.stderr}\n${r.stdout}`);
    expect(r.stdout).toMatch(/ipaddresspool.metallb.io\/docs-first-pool (created|configured|unchanged)/);
    expect(r.stdout).toMatch(/l2advertisement.metallb.io\/docs-pinned (created|configured|unchanged)/);
    expect(r.stdout).toMatch(/addresspool.metallb.io\/docs-legacy-alpha (created|configured|unchanged)/);

    const first = JSON.parse(
      await cp.kubectlOk(['-n', NS, 'get', 'ipaddresspool', 'docs-first-pool', '-o', 'json']),
    ) as {
      spec: { addresses: string[]; autoAssign?: boolean; avoidBuggyIPs?: boolean };
    };
    expect(first.spec.addresses).toEqual([
      '192.0.2.0/26',
      '192.0.2.100-192.0.2.110',
      'fc00:f853:ccd:e799::/124',
    ]);
    expect(first.spec.autoAssign).toBe(true);
    expect(first.spec.avoidBuggyIPs).toBe(false);
    const expensive = JSON.parse(
      await cp.kubectlOk(['-n', NS, 'get', 'ipaddresspool', 'docs-expensive', '-o', 'json']),
    ) as { spec: { autoAssign?: boolean } };
    expect(expensive.spec.autoAssign).toBe(false);
    const pinned = JSON.parse(
      await cp.kubectlOk(['-n', NS, 'get', 'l2advertisement', 'docs-pinned', '-o', 'json']),
    ) as { spec: Record<string, unknown> };
    expect(pinned.spec).toEqual({
      ipAddressPools: ['docs-first-pool', 'docs-expensive'],
      interfaces: ['eth0', 'eth1'],
      nodeSelectors: [
        { matchLabels: { 'kubernetes.io/hostname': 'worker-a' } },
        { matchExpressions: [{ key: 'node-role.kubernetes.io/edge', operator: 'Exists' }] },
      ],
    });
    // The v1alpha1 object is served as v1beta1 too (storage version), unchanged.
    const alpha = JSON.parse(
      await cp.kubectlOk([
        '-n',
        NS,
        'get',
        'addresspools.v1beta1.metallb.io',
        'docs-legacy-alpha',
        '-o',
        'json',
      ]),
    ) as {
      apiVersion: string;
      spec: { protocol: string; addresses: string[]; autoAssign: boolean };
    };
    expect(alpha.apiVersion).toBe('metallb.io/v1beta1');
    expect(alpha.spec).toEqual(
      expect.objectContaining({
        protocol: 'layer2',
        addresses: ['198.18.1.10-198.18.1.20'],
        autoAssign: false,
      }),
    );
    // Applying the same manifests again is a no-op.
    const again = await apply(USER_MANIFESTS);
    expect(again.code).toBe(0);
    expect(again.stdout).not.toMatch(/configured/);
  });

  it.each([
    {
      what: 'protocol bgpx on an AddressPool',
      yaml: `apiVersion: metallb.io/v1beta1\nkind: AddressPool\nmetadata: {name: bad-protocol, namespace: ${NS}}\nspec:\n  protocol: bgpx\n  addresses: [198.18.2.0/28]\n`,
      field: 'spec.protocol',
      detail: /bgpx/,
    },
    {
      what: 'an IPv4 address with an octet of 300',
      yaml: `apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: bad-octet, namespace: ${NS}}\nspec:\n  addresses: ["203.0.113.300"]\n`,
      field: 'spec.addresses[0]',
      detail: /203\.0\.113\.300/,
    },
    {
      what: 'an empty address list',
      yaml: `apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: bad-empty, namespace: ${NS}}\nspec:\n  addresses: []\n`,
      field: 'spec.addresses',
      detail: /at least 1 item/,
    },
    {
      what: 'autoAssign: "yes"',
      yaml: `apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: bad-autoassign, namespace: ${NS}}\nspec:\n  addresses: [198.18.3.0/28]\n  autoAssign: "yes"\n`,
      field: 'spec.autoAssign',
      detail: /boolean/,
    },
    {
      what: 'an AddressPool without protocol',
      yaml: `apiVersion: metallb.io/v1alpha1\nkind: AddressPool\nmetadata: {name: bad-noproto, namespace: ${NS}}\nspec:\n  addresses: [198.18.4.0/28]\n`,
      field: 'spec.protocol',
      detail: /Required/,
    },
    {
      what: 'a range with text after it',
      yaml: `apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: bad-range, namespace: ${NS}}\nspec:\n  addresses: ["198.18.5.1-198.18.5.9 oops"]\n`,
      field: 'spec.addresses[0]',
      detail: /oops/,
    },
  ])('refuses $what, naming $field', async ({ yaml, field, detail }) => {
    const r = await apply(yaml);
    const said = `${r.stderr}\n${r.stdout}`;
    if (r.code === 0) throw new Error(`the API server accepted it:\n${said}`);
    expect(said).toContain(field);
    expect(said).toMatch(detail);
    // Nothing was stored.
    const name = /name: ([\w-]+)/.exec(yaml)![1]!;
    const kind = yaml.includes('kind: AddressPool') ? 'addresspools.metallb.io' : 'ipaddresspools.metallb.io';
    const get = await cp.kubectl(['-n', NS, 'get', kind, name]);
    expect(get.stderr).toMatch(/NotFound|not found/);
  });

  it('kubectl get shows the pool printer columns', async () => {
    // The status is the controller's; write some so the columns have values to show.
    await cp.kubectlOk([
      '-n',
      NS,
      'patch',
      'ipaddresspool',
      'docs-expensive',
      '--subresource=status',
      '--type=merge',
      '-p',
      JSON.stringify({ status: { assignedIPv4: 1, availableIPv4: 3, assignedIPv6: 0, availableIPv6: 0 } }),
    ]);
    const out = await cp.kubectlOk(['-n', NS, 'get', 'ipaddresspools', '-l', LABEL]);
    const [header, ...rows] = out.trim().split('\n');
    expect(header!.split(/\s{2,}/)).toEqual([
      'NAME',
      'AUTO ASSIGN',
      'ASSIGNED IPV4',
      'AVAILABLE IPV4',
      'ASSIGNED IPV6',
      'AVAILABLE IPV6',
      'VALID',
      'REASON',
      'AGE',
    ]);
    const expensive = rows.find((r) => r.startsWith('docs-expensive'));
    expect(expensive?.split(/\s+/).slice(0, 6)).toEqual(['docs-expensive', 'false', '1', '3', '0', '0']);
    const wide = await cp.kubectlOk(['-n', NS, 'get', 'ipaddresspools', 'docs-first-pool', '-o', 'wide']);
    expect(wide.split('\n')[0]).toMatch(/ADDRESSES\s+AVOID BUGGY IPS/);
    expect(wide).toContain('192.0.2.0/26');
    const legacy = await cp.kubectlOk(['-n', NS, 'get', 'addresspools', 'docs-legacy-l2']);
    expect(legacy.split('\n')[0]).toMatch(/^NAME\s+PROTOCOL\s+AUTO ASSIGN/);
    expect(legacy).toMatch(/docs-legacy-l2\s+layer2\s+true/);
  });
});
