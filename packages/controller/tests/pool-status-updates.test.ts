import { describe, expect, it } from '@jest/globals';
import { Allocator, buildPoolSet } from '@metallb-ts/ipam';
import { MAX_STATUS_COUNT, type Condition, type ObjectError } from '@metallb-ts/api';
import {
  ownVerdictMayChange,
  poolStatusUpdates,
  servedPoolKey,
  type ConfigVerdicts,
  type PoolObjectView,
  validSpecToRecord,
} from '../src/pool-status-updates.js';

const NOW = '2024-05-06T07:08:09Z';
const EARLIER = '2024-01-01T00:00:00Z';

const allocator = () => {
  const { pools, errors } = buildPoolSet([
    { name: 'v4', addresses: ['203.0.113.0/30'], autoAssign: true, avoidBuggyIPs: false },
    {
      name: 'dual',
      addresses: ['203.0.113.16/28', '2001:db8:1::/64'],
      autoAssign: true,
      avoidBuggyIPs: false,
    },
  ]);
  if (errors.length > 0) throw new Error(JSON.stringify(errors));
  return new Allocator(pools);
};
const obj = (
  kind: PoolObjectView['kind'],
  name: string,
  status?: PoolObjectView['status'],
  generation?: number,
): PoolObjectView => ({
  kind,
  metadata: {
    namespace: 'metallb-system',
    name,
    resourceVersion: '7',
    ...(generation ? { generation } : {}),
  },
  ...(status ? { status } : {}),
});

const key = (kind: PoolObjectView['kind'], name: string) => servedPoolKey(kind, 'metallb-system', name);
const verdicts = (o: {
  served?: [PoolObjectView['kind'], string][];
  stale?: [PoolObjectView['kind'], string][];
  errors?: ObjectError[];
}): ConfigVerdicts => ({
  errors: o.errors ?? [],
  stale: new Set((o.stale ?? []).map(([k, n]) => key(k, n))),
  served: new Set((o.served ?? []).map(([k, n]) => key(k, n))),
});
const error = (kind: ObjectError['kind'], name: string, reason: string, partial?: boolean): ObjectError => ({
  kind,
  namespace: 'metallb-system',
  name,
  field: 'spec.addresses[0]',
  value: '203.0.113.0/30',
  reason,
  message: `${kind} metallb-system/${name}: spec.addresses[0] "203.0.113.0/30": ${reason}`,
  ...(partial ? { partial } : {}),
});
const serving: Condition = {
  type: 'Valid',
  status: 'True',
  reason: 'Serving',
  message: 'valid and in use',
  lastTransitionTime: EARLIER,
};
const usageOf = (s: PoolObjectView['status']) => ({
  assignedIPv4: s?.assignedIPv4,
  availableIPv4: s?.availableIPv4,
  assignedIPv6: s?.assignedIPv6,
  availableIPv6: s?.availableIPv6,
});

describe('poolStatusUpdates: usage', () => {
  it('writes counts for pools without status, per family, IPv6 /64 capped at 2^53-1', () => {
    const a = allocator();
    a.allocate('demo/a', {
      namespace: 'demo',
      labels: {},
      requestedIPs: [],
      families: [4, 6],
      familyPolicy: 'RequireDualStack',
    });
    const u = poolStatusUpdates(
      [obj('IPAddressPool', 'v4'), obj('IPAddressPool', 'dual')],
      a.stats(),
      verdicts({
        served: [
          ['IPAddressPool', 'v4'],
          ['IPAddressPool', 'dual'],
        ],
      }),
      NOW,
    );
    expect(u.map((x) => [x.name, usageOf(x.status)])).toEqual([
      ['v4', { assignedIPv4: 0, availableIPv4: 4, assignedIPv6: 0, availableIPv6: 0 }],
      ['dual', { assignedIPv4: 1, availableIPv4: 15, assignedIPv6: 1, availableIPv6: MAX_STATUS_COUNT }],
    ]);
    expect(u[1]).toEqual(
      expect.objectContaining({
        kind: 'IPAddressPool',
        namespace: 'metallb-system',
        resourceVersion: '7',
        apiVersion: 'metallb.io/v1beta1',
      }),
    );
  });

  it('nothing to write when the status already says it; a usage change rewrites, keeping the condition', () => {
    const a = allocator();
    const same = {
      assignedIPv4: 0,
      availableIPv4: 4,
      assignedIPv6: 0,
      availableIPv6: 0,
      conditions: [serving],
    };
    const v = verdicts({ served: [['AddressPool', 'v4']] });
    expect(poolStatusUpdates([obj('AddressPool', 'v4', same)], a.stats(), v, NOW)).toEqual([]);
    a.allocate('demo/a', {
      namespace: 'demo',
      labels: {},
      requestedIPs: [],
      families: [4],
      familyPolicy: 'SingleStack',
      pool: 'v4',
    });
    const u = poolStatusUpdates([obj('AddressPool', 'v4', same)], a.stats(), v, NOW);
    expect(u.map((x) => [x.kind, x.status.assignedIPv4, x.status.availableIPv4])).toEqual([
      ['AddressPool', 1, 3],
    ]);
    expect(u[0]!.status.conditions).toEqual([serving]);
  });

  it('objects whose pool is not served (never valid) get a condition but no counts', () => {
    const u = poolStatusUpdates(
      [obj('IPAddressPool', 'broken')],
      allocator().stats(),
      verdicts({ served: [['IPAddressPool', 'v4']], errors: [error('IPAddressPool', 'broken', 'bad')] }),
      NOW,
    );
    expect(u).toHaveLength(1);
    expect(u[0]!.status).toEqual({
      conditions: [expect.objectContaining({ reason: 'InvalidConfiguration' })],
    });
  });

  it('of two objects with one name, only the one served gets the usage', () => {
    const u = poolStatusUpdates(
      [obj('AddressPool', 'v4'), obj('IPAddressPool', 'v4')],
      allocator().stats(),
      verdicts({ served: [['IPAddressPool', 'v4']], errors: [error('AddressPool', 'v4', 'name taken')] }),
      NOW,
    );
    expect(u.map((x) => [x.kind, x.status.availableIPv4, x.status.conditions?.[0]?.status])).toEqual([
      ['AddressPool', undefined, 'False'],
      ['IPAddressPool', 4, 'True'],
    ]);
  });
});

describe('poolStatusUpdates: the Valid condition', () => {
  const stats = allocator().stats();
  const counted = { assignedIPv4: 0, availableIPv4: 4, assignedIPv6: 0, availableIPv6: 0 };
  const cases: {
    name: string;
    object: PoolObjectView;
    verdicts: ConfigVerdicts;
    want: Partial<Condition> | 'no write';
  }[] = [
    {
      name: 'a served pool without errors: True, Serving, with the generation',
      object: obj('IPAddressPool', 'v4', undefined, 4),
      verdicts: verdicts({ served: [['IPAddressPool', 'v4']] }),
      want: { status: 'True', reason: 'Serving', observedGeneration: 4, lastTransitionTime: NOW },
    },
    {
      name: 'already True, Serving for this generation: no write',
      object: obj(
        'IPAddressPool',
        'v4',
        { ...counted, conditions: [{ ...serving, observedGeneration: 4 }] },
        4,
      ),
      verdicts: verdicts({ served: [['IPAddressPool', 'v4']] }),
      want: 'no write',
    },
    {
      name: 'a new generation, still valid: rewritten, transition time kept',
      object: obj(
        'IPAddressPool',
        'v4',
        { ...counted, conditions: [{ ...serving, observedGeneration: 4 }] },
        5,
      ),
      verdicts: verdicts({ served: [['IPAddressPool', 'v4']] }),
      want: { status: 'True', observedGeneration: 5, lastTransitionTime: EARLIER },
    },
    {
      name: 'an overlapping pool never served: False, InvalidConfiguration, the error as message',
      object: obj('IPAddressPool', 'b', { conditions: [serving] }),
      verdicts: verdicts({ errors: [error('IPAddressPool', 'b', 'overlaps 203.0.113.0/30 of pool "a"')] }),
      want: {
        status: 'False',
        reason: 'InvalidConfiguration',
        message:
          'IPAddressPool metallb-system/b: spec.addresses[0] "203.0.113.0/30": overlaps 203.0.113.0/30 of pool "a"; not in use',
        lastTransitionTime: NOW,
      },
    },
    {
      name: 'an invalid edit of a served pool: False, ServingLastValidSpec',
      object: obj('IPAddressPool', 'v4', { ...counted, conditions: [serving] }),
      verdicts: verdicts({
        served: [['IPAddressPool', 'v4']],
        stale: [['IPAddressPool', 'v4']],
        errors: [error('IPAddressPool', 'v4', 'bad')],
      }),
      want: { status: 'False', reason: 'ServingLastValidSpec', lastTransitionTime: NOW },
    },
    {
      name: 'errors of other objects do not touch this one',
      object: obj('IPAddressPool', 'v4', { ...counted, conditions: [serving] }),
      verdicts: verdicts({
        served: [['IPAddressPool', 'v4']],
        errors: [error('AddressPool', 'v4', 'name taken'), error('IPAddressPool', 'other', 'bad')],
      }),
      want: 'no write',
    },
    {
      name: 'an L2Advertisement naming a missing pool: False, ServingValidPart, no counts',
      object: obj('L2Advertisement', 'ad'),
      verdicts: verdicts({ errors: [error('L2Advertisement', 'ad', 'no such IPAddressPool', true)] }),
      want: { status: 'False', reason: 'ServingValidPart' },
    },
    {
      name: 'a valid L2Advertisement: True, Serving',
      object: obj('L2Advertisement', 'ad'),
      verdicts: verdicts({}),
      want: { status: 'True', reason: 'Serving' },
    },
  ];
  it.each(cases)('$name', ({ object, verdicts: v, want }) => {
    const u = poolStatusUpdates([object], stats, v, NOW);
    if (want === 'no write') return void expect(u).toEqual([]);
    expect(u).toHaveLength(1);
    const valid = u[0]!.status.conditions?.filter((c) => c.type === 'Valid');
    expect(valid).toEqual([expect.objectContaining(want)]);
    if (object.kind === 'L2Advertisement') expect(Object.keys(u[0]!.status)).toEqual(['conditions']);
  });

  it('keeps conditions of other types and writes the same fingerprint however late it runs', () => {
    const other: Condition = {
      type: 'Other',
      status: 'True',
      reason: 'R',
      message: 'm',
      lastTransitionTime: EARLIER,
    };
    const o = obj('IPAddressPool', 'b', { conditions: [other] });
    const v = verdicts({ errors: [error('IPAddressPool', 'b', 'bad')] });
    const first = poolStatusUpdates([o], stats, v, NOW)[0]!;
    const again = poolStatusUpdates([o], stats, v, '2030-01-01T00:00:00Z')[0]!;
    expect(first.status.conditions?.map((c) => c.type)).toEqual(['Other', 'Valid']);
    expect(first.status.conditions?.[0]).toEqual(other);
    expect(again.fingerprint).toBe(first.fingerprint);
    expect(again.status.conditions?.[1]?.lastTransitionTime).not.toBe(
      first.status.conditions?.[1]?.lastTransitionTime,
    );
  });
});

describe('objects the last reload did not read', () => {
  it('get no status at all, not even Valid=True for want of errors', () => {
    const updates = poolStatusUpdates(
      [obj('IPAddressPool', 'v4'), obj('IPAddressPool', 'new'), obj('L2Advertisement', 'new-l2')],
      allocator().stats(),
      {
        ...verdicts({ served: [['IPAddressPool', 'v4']] }),
        unread: new Set([key('IPAddressPool', 'new'), key('L2Advertisement', 'new-l2')]),
      },
      NOW,
    );
    expect(updates.map((u) => u.name)).toEqual(['v4']);
  });

  it('are new ones and ones whose spec or uid changed; labels and annotations are no reason', () => {
    const pool = { spec: { addresses: ['203.0.113.0/30'] }, metadata: { uid: 'u1', labels: { a: 'b' } } };
    expect(ownVerdictMayChange(undefined, pool)).toBe(true);
    expect(ownVerdictMayChange(pool, undefined)).toBe(false);
    expect(ownVerdictMayChange(pool, { ...pool, spec: { addresses: ['203.0.113.0/29'] } })).toBe(true);
    expect(ownVerdictMayChange(pool, { ...pool, metadata: { uid: 'u2', labels: { a: 'b' } } })).toBe(true);
    expect(
      ownVerdictMayChange(pool, {
        ...pool,
        metadata: { uid: 'u1', labels: { a: 'c' }, annotations: { 'metallb.io/last-valid-spec': '{}' } },
      }),
    ).toBe(false);
  });
});

describe('validSpecToRecord', () => {
  const pool = (addresses: string[], recorded?: string) => ({
    kind: 'IPAddressPool',
    metadata: {
      namespace: 'metallb-system',
      name: 'p',
      ...(recorded === undefined ? {} : { annotations: { 'metallb.io/last-valid-spec': recorded } }),
    },
    spec: { addresses },
  });
  const id = 'IPAddressPool/metallb-system/p';
  const served = { served: new Set([id]), stale: new Set<string>(), unread: new Set<string>() };

  it('records the spec of a pool the last reload served from this version, once', () => {
    const spec = validSpecToRecord(pool(['203.0.113.0/29']), served);
    expect(spec).toBe(JSON.stringify({ addresses: ['203.0.113.0/29'] }));
    expect(validSpecToRecord(pool(['203.0.113.0/29'], spec), served)).toBeUndefined();
  });

  it('never records an edit the last reload has not read (the soak saw a malformed range recorded as valid)', () => {
    // Served as of the last reload, then edited to a reversed range: the status writer may run
    // before the next reload, and must not take the edit for the version it served.
    expect(
      validSpecToRecord(pool(['203.0.113.250-203.0.113.240']), { ...served, unread: new Set([id]) }),
    ).toBeUndefined();
  });

  it('records nothing for a pool served from its last valid version, or not served', () => {
    expect(validSpecToRecord(pool(['203.0.113.0/29']), { ...served, stale: new Set([id]) })).toBeUndefined();
    expect(validSpecToRecord(pool(['203.0.113.0/29']), { ...served, served: new Set() })).toBeUndefined();
  });
});
