import { describe, expect, it } from '@jest/globals';
import { buildConfig, l2AnnouncementFor } from '@metallb-ts/api';
import { decideAnnouncements, electionKeys, type SpeakerView } from '../src/announcements.js';
import { EXCLUDE_LB_LABEL, type NodeFacts } from '../src/candidates.js';
import { electNode } from '../src/election.js';

const node = (name: string, extra: Partial<NodeFacts> = {}): NodeFacts => ({
  name,
  labels: {},
  networkUnavailable: false,
  ...extra,
});
const nodes = [node('node-1'), node('node-2'), node('node-3')];
const all = new Set(['node-1', 'node-2', 'node-3']);
const svc = (key: string, ips: string[], extra: Partial<SpeakerView['services'][number]> = {}) => ({
  key,
  ips,
  externalTrafficPolicy: 'Cluster' as const,
  endpointNodes: new Set(['node-1', 'node-2', 'node-3']),
  hasEndpoints: true,
  ...extra,
});
const everywhere: SpeakerView['policy'] = () => ({ announce: true, interfaces: [] });

function winnerOf(view: Omit<SpeakerView, 'me'>, key: string): string | undefined {
  return decideAnnouncements({ ...view, me: 'node-1' }).decisions.find((d) => d.service === key)?.winner;
}

describe('decideAnnouncements', () => {
  it('exactly one node announces each service, and all agree who', () => {
    const base = {
      services: [svc('a/x', ['203.0.113.200']), svc('a/y', ['203.0.113.201'])],
      nodes,
      alive: all,
      policy: everywhere,
    };
    for (const ip of ['203.0.113.200', '203.0.113.201']) {
      const announcers = [...all].filter((me) => decideAnnouncements({ ...base, me }).announce.has(ip));
      expect(announcers).toEqual([electNode(all, ip)]);
    }
  });

  it('services linked by a shared address are elected together, even when it is not the first address of each', () => {
    // A dual-stack service shares its IPv6 address with an IPv6-only one, which shares its own
    // address chain onwards: MetalLB's key (each one's first address) would split them.
    const services = [
      svc('a/dual', ['203.0.113.40', '2001:db8:1::12b']),
      svc('a/v6', ['2001:db8:1::12b']),
      svc('a/other', ['203.0.113.41']),
    ];
    for (const alive of [all, new Set(['node-1', 'node-2']), new Set(['node-2', 'node-3'])]) {
      const view = { services, nodes, alive, policy: everywhere };
      for (const ip of ['203.0.113.40', '2001:db8:1::12b', '203.0.113.41']) {
        const announcers = [...alive].filter((me) => decideAnnouncements({ ...view, me }).announce.has(ip));
        expect(announcers).toHaveLength(1);
      }
      expect(winnerOf(view, 'a/dual')).toBe(winnerOf(view, 'a/v6'));
    }
    expect(electionKeys(services)).toEqual(
      new Map([
        ['a/dual', '2001:db8:1::12b'],
        ['a/v6', '2001:db8:1::12b'],
        ['a/other', '203.0.113.41'],
      ]),
    );
  });

  it("keeps MetalLB's key, the first address, when the services sharing it all start with it", () => {
    const services = [
      svc('a/x', ['203.0.113.40', '2001:db8:1::1']),
      svc('a/y', ['203.0.113.40', '2001:db8:1::1']),
      svc('a/z', ['203.0.113.40']),
      svc('a/alone', ['2001:db8:1::9', '203.0.113.9']),
      svc('a/none', []),
    ];
    expect(electionKeys(services)).toEqual(
      new Map([
        ['a/x', '203.0.113.40'],
        ['a/y', '203.0.113.40'],
        ['a/z', '203.0.113.40'],
        ['a/alone', '2001:db8:1::9'],
      ]),
    );
  });

  it('a dead speaker is not a candidate, and its successor takes over', () => {
    const base = { services: [svc('a/x', ['203.0.113.200'])], nodes, alive: all, policy: everywhere };
    const first = winnerOf(base, 'a/x')!;
    const next = winnerOf({ ...base, alive: new Set([...all].filter((n) => n !== first)) }, 'a/x');
    expect(next).toBeDefined();
    expect(next).not.toBe(first);
  });

  it('Local policy only elects nodes with a ready endpoint', () => {
    const local = svc('a/x', ['203.0.113.200'], {
      externalTrafficPolicy: 'Local',
      endpointNodes: new Set(['node-2']),
    });
    expect(winnerOf({ services: [local], nodes, alive: all, policy: everywhere }, 'a/x')).toBe('node-2');
  });

  it('no endpoints: nobody announces', () => {
    const none = svc('a/x', ['203.0.113.200'], { hasEndpoints: false, endpointNodes: new Set() });
    expect(winnerOf({ services: [none], nodes, alive: all, policy: everywhere }, 'a/x')).toBeUndefined();
  });

  it('skips NetworkUnavailable nodes, the exclusion label and nodes the advertisement leaves out', () => {
    const s = svc('a/x', ['203.0.113.200']);
    const onlyNode3 = [
      node('node-1', { networkUnavailable: true }),
      node('node-2', { labels: { [EXCLUDE_LB_LABEL]: '' } }),
      node('node-3'),
    ];
    expect(winnerOf({ services: [s], nodes: onlyNode3, alive: all, policy: everywhere }, 'a/x')).toBe(
      'node-3',
    );
    const notNode3: SpeakerView['policy'] = (_p, n) => ({ announce: n.name !== 'node-3', interfaces: [] });
    expect(
      winnerOf({ services: [s], nodes: onlyNode3, alive: all, policy: notNode3 }, 'a/x'),
    ).toBeUndefined();
  });

  it('services sharing an IP land on one node and merge into one announcement', () => {
    const ip = '203.0.113.210';
    const view = { services: [svc('a/x', [ip]), svc('b/y', [ip])], nodes, alive: all, policy: everywhere };
    const winner = electNode(all, ip)!;
    const ann = decideAnnouncements({ ...view, me: winner }).announce.get(ip);
    expect(ann?.services.sort()).toEqual(['a/x', 'b/y']);
  });

  it('L2Advertisement serviceSelectors: only services whose labels match are announced', () => {
    const { config, errors } = buildConfig({
      addressPools: [],
      ipAddressPools: [
        {
          apiVersion: 'metallb.io/v1beta1',
          kind: 'IPAddressPool',
          metadata: { name: 'pool', namespace: 'metallb-system' },
          spec: { addresses: ['203.0.113.0/24'] },
        },
      ],
      l2Advertisements: [
        {
          apiVersion: 'metallb.io/v1beta1',
          kind: 'L2Advertisement',
          metadata: { name: 'front-only', namespace: 'metallb-system' },
          spec: { ipAddressPools: ['pool'], serviceSelectors: [{ matchLabels: { tier: 'front' } }] },
        },
      ],
    });
    expect(errors).toEqual([]);
    const policy: SpeakerView['policy'] = (pool, n, service) =>
      pool ? l2AnnouncementFor(config, pool, n, service) : { announce: false, interfaces: [] };
    const front = svc('a/front', ['203.0.113.10'], { pool: 'pool', labels: { tier: 'front' } });
    const back = svc('a/back', ['203.0.113.11'], { pool: 'pool', labels: { tier: 'back' } });
    const view = { services: [front, back], nodes, alive: all, policy };
    expect(winnerOf(view, 'a/front')).toBeDefined();
    expect(winnerOf(view, 'a/back')).toBeUndefined();
    const announced = [...all].flatMap((me) => [...decideAnnouncements({ ...view, me }).announce.keys()]);
    expect(announced).toEqual(['203.0.113.10']);
  });
});
