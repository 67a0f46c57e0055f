// A seeded generator of malformed and hostile objects for the bad-input e2e test: pools,
// advertisements and Services that are broken in one known way each. Every case says which field
// it breaks (a refusal by the API server must name it) and what the components must do if the
// API server lets it in (report it on the object, or just stay healthy).

/** Deterministic PRNG (mulberry32): the same seed yields the same storm. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type Kind = 'IPAddressPool' | 'AddressPool' | 'L2Advertisement' | 'Service';

/**
 * - `invalid`: if accepted, the object must be reported broken: Valid=False on a pool or
 *   advertisement, a LoadBalancerFailed/AllocationFailed event on a Service (naming `why`).
 * - `any`: the object may be fine once the API server pruned or defaulted it; if accepted, a pool
 *   or advertisement must still carry a Valid condition (True or False), a Service needs nothing.
 */
export type Verdict = 'invalid' | 'any';

export interface BadCase {
  readonly id: number;
  readonly kind: Kind;
  readonly name: string;
  /** What is wrong, for failure messages. */
  readonly what: string;
  /** A word a refusal's message must contain (the field, as the API server names it). */
  readonly field: string;
  readonly verdict: Verdict;
  /** For an accepted invalid Service: a text its event must contain (the value or pool it names). */
  readonly why?: string;
  /** The request body: JSON text (may hold control characters), or bytes (not UTF-8). */
  readonly body: string | Buffer;
}

export interface StormOptions {
  readonly seed: number;
  readonly count: number;
  /** Namespace of pools and advertisements (the controller's). */
  readonly poolNamespace: string;
  /** Namespace of the Services. */
  readonly serviceNamespace: string;
  /** A pool healthy Services use: hostile pools overlap it, hostile Services ask for its addresses. */
  readonly healthyPool: { name: string; cidr: string; held: readonly string[] };
}

const GROUP_VERSION = 'metallb.io/v1beta1';
const CONTROL = ['\u0000', '\u0001', '\u0007', '\u001b', '\u007f', '\u202e', '\ufeff'];

export function generateStorm(o: StormOptions): BadCase[] {
  const r = rng(o.seed);
  const int = (n: number) => Math.floor(r() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const garbage = () =>
    Array.from({ length: 1 + int(12) }, () =>
      r() < 0.3 ? pick(CONTROL) : String.fromCharCode(33 + int(94)),
    ).join('');
  const cases: BadCase[] = [];
  const pool = (name: string, spec: unknown, kind: 'IPAddressPool' | 'AddressPool' = 'IPAddressPool') =>
    JSON.stringify({ apiVersion: GROUP_VERSION, kind, metadata: { name, namespace: o.poolNamespace }, spec });
  const l2 = (name: string, spec: unknown) =>
    JSON.stringify({
      apiVersion: GROUP_VERSION,
      kind: 'L2Advertisement',
      metadata: { name, namespace: o.poolNamespace },
      spec,
    });
  const svc = (name: string, annotations: Record<string, string>, spec: Record<string, unknown> = {}) =>
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, namespace: o.serviceNamespace, annotations },
      spec: {
        type: 'LoadBalancer',
        ipFamilies: ['IPv6'],
        ipFamilyPolicy: 'SingleStack',
        allocateLoadBalancerNodePorts: false,
        ports: [{ port: 80, protocol: 'TCP' }],
        ...spec,
      },
    });
  const v6 = () => `2001:db8:bad:${int(0xffff).toString(16)}::${int(0xffff).toString(16)}`;
  const held = () => pick(o.healthyPool.held);

  type Make = (id: number) => Omit<BadCase, 'id'>;
  const makers: Make[] = [
    // --- IPAddressPool
    (id) => {
      const bad = pick(['203.0.113.300', '1.2.3.4/33', 'not-an-ip', '2001:db8::g', '10.0.0.1-', garbage()]);
      return {
        kind: 'IPAddressPool',
        name: `bad-addr-${id}`,
        what: `address ${JSON.stringify(bad)}`,
        field: 'spec.addresses',
        verdict: 'invalid',
        body: pool(`bad-addr-${id}`, { addresses: [bad] }),
      };
    },
    (id) => {
      const a = 1 + int(100);
      return {
        kind: 'IPAddressPool',
        name: `reversed-${id}`,
        what: 'reversed range',
        field: 'spec.addresses',
        verdict: 'invalid',
        body: pool(`reversed-${id}`, { addresses: [`192.0.2.${a + 50}-192.0.2.${a}`] }),
      };
    },
    (id) => ({
      kind: 'IPAddressPool',
      name: `overlap-${id}`,
      what: `overlaps the healthy pool ${o.healthyPool.cidr}`,
      field: 'spec.addresses',
      verdict: 'invalid',
      body: pool(`overlap-${id}`, { addresses: [o.healthyPool.cidr] }),
    }),
    (id) => {
      const n = 200 + int(1800);
      const base = int(0xffff).toString(16);
      return {
        kind: 'IPAddressPool',
        name: `huge-list-${id}`,
        what: `${n} addresses`,
        field: 'spec.addresses',
        verdict: 'any',
        body: pool(`huge-list-${id}`, {
          addresses: Array.from({ length: n }, (_, i) => `2001:db8:b16:${base}::${i.toString(16)}/128`),
        }),
      };
    },
    (id) => ({
      kind: 'IPAddressPool',
      name: `too-long-${id}`,
      what: 'an address entry of 5,000 characters',
      field: 'spec.addresses',
      verdict: 'invalid',
      body: pool(`too-long-${id}`, { addresses: ['1'.repeat(5000)] }),
    }),
    (id) => {
      const [field, spec] = pick<[string, unknown]>([
        ['spec.addresses', { addresses: 'not-a-list' }],
        ['spec.addresses', { addresses: [42, { a: 1 }] }],
        ['spec.autoAssign', { addresses: [v6() + '/128'], autoAssign: 'yes' }],
        ['spec.avoidBuggyIPs', { addresses: [v6() + '/128'], avoidBuggyIPs: 3 }],
        ['spec.addresses', { addresses: [] }],
        ['spec', 7],
      ]);
      return {
        kind: 'IPAddressPool',
        name: `wrong-type-${id}`,
        what: `wrong type at ${field}`,
        field,
        verdict: 'invalid',
        body: pool(`wrong-type-${id}`, spec),
      };
    },
    (id) => {
      let nested: unknown = { leaf: garbage() };
      for (let i = 0; i < 50 + int(200); i++) nested = { deeper: nested };
      return {
        kind: 'IPAddressPool',
        name: `unknown-fields-${id}`,
        what: 'unknown, deeply nested fields',
        field: 'spec',
        verdict: 'any',
        body: pool(`unknown-fields-${id}`, { addresses: [`${v6()}/128`], surprise: nested, [garbage()]: 1 }),
      };
    },
    (id) => {
      const n = 100 + int(900);
      return {
        kind: 'IPAddressPool',
        name: `huge-selector-${id}`,
        what: `${n} matchExpressions, one with a bad operator`,
        field: 'operator',
        verdict: 'invalid',
        body: pool(`huge-selector-${id}`, {
          addresses: [`${v6()}/128`],
          serviceAllocation: {
            serviceSelectors: [
              {
                matchExpressions: Array.from({ length: n }, (_, i) => ({
                  key: `k${i}`,
                  operator: i === n - 1 ? 'Sometimes' : 'In',
                  values: [garbage()],
                })),
              },
            ],
          },
        }),
      };
    },
    (id) => {
      const name = pick([`UPPER-${id}`, `x${'y'.repeat(260)}${id}`, `dots..${id}`, `ctl\u0001${id}`]);
      return {
        kind: 'IPAddressPool',
        name,
        what: 'invalid object name',
        field: 'metadata.name',
        verdict: 'invalid',
        body: pool(name, { addresses: [`${v6()}/128`] }),
      };
    },
    (id) => {
      // Invalid UTF-8 inside a JSON string: the decoder turns it into U+FFFD, the pattern refuses.
      const head = Buffer.from(pool(`non-utf8-${id}`, { addresses: ['@@BYTES@@'] }));
      const at = head.indexOf('@@BYTES@@');
      const bytes = Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0x80]);
      return {
        kind: 'IPAddressPool',
        name: `non-utf8-${id}`,
        what: 'an address of invalid UTF-8 bytes',
        field: 'spec.addresses',
        verdict: 'invalid',
        body: Buffer.concat([head.subarray(0, at), bytes, head.subarray(at + 9)]),
      };
    },
    // --- AddressPool (legacy)
    (id) => {
      const [field, spec, verdict] = pick<[string, unknown, Verdict]>([
        ['spec.protocol', { addresses: [`${v6()}/128`] }, 'invalid'],
        ['protocol', { protocol: 'bgp', addresses: [`${v6()}/128`] }, 'invalid'],
        ['spec.protocol', { protocol: garbage(), addresses: [`${v6()}/128`] }, 'invalid'],
        ['spec.addresses', { protocol: 'layer2', addresses: ['203.0.113.1-203.0.113.999'] }, 'invalid'],
        ['bgp', { protocol: 'layer2', addresses: [`${v6()}/128`], bgpAdvertisements: [{}] }, 'invalid'],
      ]);
      return {
        kind: 'AddressPool',
        name: `legacy-${id}`,
        what: `AddressPool broken at ${field}`,
        field,
        verdict,
        body: pool(`legacy-${id}`, spec, 'AddressPool'),
      };
    },
    // --- L2Advertisement
    (id) => ({
      kind: 'L2Advertisement',
      name: `missing-pool-${id}`,
      what: 'names a pool that does not exist',
      field: 'spec.ipAddressPools',
      verdict: 'invalid',
      body: l2(`missing-pool-${id}`, { ipAddressPools: [`no-such-pool-${id}`] }),
    }),
    (id) => {
      const [field, spec, verdict] = pick<[string, unknown, Verdict]>([
        ['spec.interfaces', { interfaces: [''] }, 'invalid'],
        ['spec.interfaces', { interfaces: 'eth0' }, 'invalid'],
        ['operator', { nodeSelectors: [{ matchExpressions: [{ key: 'a', operator: 'Near' }] }] }, 'invalid'],
        ['spec.ipAddressPools', { ipAddressPools: [1, 2, 3] }, 'invalid'],
        [
          'spec.interfaces',
          { interfaces: Array.from({ length: 500 + int(1500) }, (_, i) => `if${i}${garbage()}`) },
          'any',
        ],
        [
          'spec.nodeSelectors',
          {
            nodeSelectors: Array.from({ length: 50 + int(200) }, (_, i) => ({
              matchLabels: { [`l${i}`]: garbage() },
            })),
          },
          'any',
        ],
      ]);
      return {
        kind: 'L2Advertisement',
        name: `l2-${id}`,
        what: `L2Advertisement broken at ${field}`,
        field,
        verdict,
        body: l2(`l2-${id}`, spec),
      };
    },
    // --- Services with broken metallb annotations
    (id) => {
      // One bad address, so the event names all of it: the annotation is a comma-separated list
      // and the refusal names the bad item (",!)$" is refused for "!)$"), and garbage of commas
      // alone would ask for nothing. Lists have a case of their own below.
      const bad = pick([
        '2001:db8::zz',
        '203.0.113.999',
        'localhost',
        '::1::2',
        garbage().replaceAll(',', ';'),
      ]);
      return {
        kind: 'Service',
        name: `bad-ip-${id}`,
        what: `loadBalancerIPs ${JSON.stringify(bad)}`,
        field: 'annotations',
        verdict: 'invalid',
        why: bad,
        body: svc(`bad-ip-${id}`, { 'metallb.io/loadBalancerIPs': bad }),
      };
    },
    (id) => ({
      kind: 'Service',
      name: `unknown-pool-${id}`,
      what: 'asks for a pool that does not exist',
      field: 'annotations',
      verdict: 'invalid',
      why: `no-such-pool-${id}`,
      body: svc(`unknown-pool-${id}`, { 'metallb.io/address-pool': `no-such-pool-${id}` }),
    }),
    (id) => {
      const a = v6();
      const b = v6();
      return {
        kind: 'Service',
        name: `both-ips-${id}`,
        what: 'loadBalancerIPs annotation and spec.loadBalancerIP both set',
        field: 'spec.loadBalancerIP',
        verdict: 'invalid',
        why: 'both set',
        body: svc(`both-ips-${id}`, { 'metallb.io/loadBalancerIPs': a }, { loadBalancerIP: b }),
      };
    },
    (id) => {
      const ip = held();
      const key = Array.from({ length: 50 + int(200) }, () => garbage()).join('');
      return {
        kind: 'Service',
        name: `steal-${id}`,
        what: `absurd sharing key, asks for ${ip} held by a healthy Service`,
        field: 'metadata.annotations',
        verdict: 'invalid',
        why: ip,
        body: svc(`steal-${id}`, {
          'metallb.io/loadBalancerIPs': ip,
          'metallb.io/allow-shared-ip': key,
        }),
      };
    },
    (id) => {
      const list = Array.from({ length: 2 + int(4) }, v6);
      const ips = list.join(',');
      return {
        kind: 'Service',
        name: `many-ips-${id}`,
        what: 'several IPv6 addresses for a SingleStack Service',
        field: 'annotations',
        verdict: 'invalid',
        why: list[1],
        body: svc(`many-ips-${id}`, {
          'metallb.io/loadBalancerIPs': ips,
          'metallb.io/address-pool': o.healthyPool.name,
        }),
      };
    },
    (id) => {
      const [field, body] = pick<[string, string]>([
        [
          'metadata.annotations',
          svc(`huge-ann-${id}`, { 'metallb.io/allow-shared-ip': 'x'.repeat(300_000) }),
        ],
        ['spec.loadBalancerIP', svc(`huge-ann-${id}`, {}, { loadBalancerIP: 'not-an-ip' })],
        ['spec.ports', svc(`huge-ann-${id}`, {}, { ports: 'eighty' })],
        ['metadata.annotations', svc(`huge-ann-${id}`, { [`bad key ${garbage()}`]: 'v' })],
      ]);
      return {
        kind: 'Service',
        name: `huge-ann-${id}`,
        what: `Service refused at ${field}`,
        field,
        verdict: 'invalid',
        body,
      };
    },
    (id) => ({
      kind: 'Service',
      name: `ctl-${id}`,
      what: 'control characters in the pool annotation',
      field: 'metadata.annotations',
      verdict: 'invalid',
      why: 'does not exist',
      body: svc(`ctl-${id}`, { 'metallb.io/address-pool': `pool${pick(CONTROL)}${garbage()}` }),
    }),
  ];
  for (let id = 0; id < o.count; id++) cases.push({ id, ...pick(makers)(id) });
  return cases;
}

/** The collection a case is POSTed to. */
export function collectionPath(
  c: BadCase,
  o: Pick<StormOptions, 'poolNamespace' | 'serviceNamespace'>,
): string {
  if (c.kind === 'Service') return `/api/v1/namespaces/${o.serviceNamespace}/services`;
  const plural = {
    IPAddressPool: 'ipaddresspools',
    AddressPool: 'addresspools',
    L2Advertisement: 'l2advertisements',
  }[c.kind];
  return `/apis/metallb.io/v1beta1/namespaces/${o.poolNamespace}/${plural}`;
}
