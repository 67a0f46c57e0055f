import { describe, expect, it } from '@jest/globals';
import { SPEAKER_SETTINGS } from '@metallb-ts/manifests';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  linkChanged,
  planLinkChanges,
  readLinkStamp,
  selectLinks,
  type LinkInfo,
  type LinkStamp,
} from '../src/interfaces.js';

const { interfaceExclude } = SPEAKER_SETTINGS.defs;

const link = (name: string, extra: Partial<LinkInfo> = {}): LinkInfo => ({
  name,
  mac: '02:00:00:00:00:01',
  up: true,
  noArp: false,
  enslaved: false,
  loopback: false,
  ...extra,
});

describe('selectLinks', () => {
  it('skips down, NOARP, enslaved, loopback, MAC-less and excluded links, saying why', () => {
    const exclude = interfaceExclude.parse('^mgmt.*,^kube-ipvs.*');
    if (!exclude.ok) throw new Error(exclude.error);
    const { use, skipped } = selectLinks(
      [
        link('data0'),
        link('mgmt0'),
        link('kube-ipvs0'),
        link('eth1', { up: false }),
        link('eth2', { noArp: true }),
        link('eth3', { enslaved: true }),
        link('lo', { loopback: true, mac: '00:00:00:00:00:00' }),
        link('wg0', { mac: '' }),
      ],
      exclude.value,
    );
    expect(use.map((l) => l.name)).toEqual(['data0']);
    expect(Object.fromEntries(skipped.map((s) => [s.name, s.why]))).toEqual({
      mgmt0: 'matches exclusion ^mgmt.*',
      'kube-ipvs0': 'matches exclusion ^kube-ipvs.*',
      eth1: 'down',
      eth2: 'NOARP',
      eth3: 'enslaved to a bond or bridge',
      lo: 'loopback',
      wg0: 'no Ethernet address',
    });
  });

  it("with the setting's default (MetalLB's exclusion list) skips veth and docker links", () => {
    const use = selectLinks([link('veth12'), link('docker0'), link('eth0')], interfaceExclude.default).use;
    expect(use.map((l) => l.name)).toEqual(['eth0']);
  });
});

describe('planLinkChanges', () => {
  it('opens new links, closes gone and errored ones, reopens an errored or re-addressed link still in use', () => {
    const open = new Map([
      ['data0', { mac: '02:00:00:00:00:01', errored: false }],
      ['gone0', { mac: '02:00:00:00:00:01', errored: false }],
      ['flaky0', { mac: '02:00:00:00:00:01', errored: true }],
      ['readdr0', { mac: '02:00:00:00:00:01', errored: false }],
      ['broken0', { mac: '02:00:00:00:00:01', errored: true }],
    ]);
    const plan = planLinkChanges(open, [
      link('data0'),
      link('flaky0'),
      link('readdr0', { mac: '02:00:00:00:00:99' }),
      link('bond0'),
    ]);
    expect(plan.close.sort()).toEqual(['broken0', 'flaky0', 'gone0', 'readdr0']);
    expect(plan.open.map((l) => l.name).sort()).toEqual(['bond0', 'flaky0', 'readdr0']);
  });

  it('nothing to do when the links are unchanged', () => {
    const open = new Map([['data0', { mac: '02:00:00:00:00:01', errored: false }]]);
    expect(planLinkChanges(open, [link('data0')])).toEqual({ close: [], open: [] });
  });
});

describe('linkChanged', () => {
  const atOpen: LinkStamp = { ifindex: 7, carrierChanges: 2, up: true };

  it('keeps a capture whose link has not changed since open', () => {
    expect(linkChanged(atOpen, { ...atOpen })).toBeUndefined();
  });

  it('reopens once a link that flapped is up again, however short the flap', () => {
    expect(linkChanged(atOpen, { ...atOpen, carrierChanges: 4 })).toBe(
      'carrier changed 2 time(s) since capture opened',
    );
  });

  it('waits while the link is still down', () => {
    expect(linkChanged(atOpen, { ...atOpen, carrierChanges: 3, up: false })).toBeUndefined();
  });

  it('reopens a link re-created under the same name, even while down, and reports one that vanished', () => {
    expect(linkChanged(atOpen, { ...atOpen, ifindex: 9, up: false })).toBe('ifindex changed from 7 to 9');
    expect(linkChanged(atOpen, undefined)).toBe('interface vanished');
  });

  it('reopens a capture opened while the link was not yet up once it is', () => {
    expect(linkChanged({ ...atOpen, up: false }, atOpen)).toBe('came up after capture opened');
  });
});

describe('readLinkStamp', () => {
  it('reads ifindex, carrier changes and operstate from sysfs, undefined for a missing link', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sysnet-'));
    mkdirSync(join(dir, 'data0'));
    writeFileSync(join(dir, 'data0', 'ifindex'), '12\n');
    writeFileSync(join(dir, 'data0', 'carrier_changes'), '5\n');
    writeFileSync(join(dir, 'data0', 'operstate'), 'down\n');
    expect(readLinkStamp('data0', dir)).toEqual({ ifindex: 12, carrierChanges: 5, up: false });
    writeFileSync(join(dir, 'data0', 'operstate'), 'up\n');
    expect(readLinkStamp('data0', dir)).toEqual({ ifindex: 12, carrierChanges: 5, up: true });
    expect(readLinkStamp('gone0', dir)).toBeUndefined();
    rmSync(dir, { recursive: true });
  });
});

describe('planLinkChanges with stale links', () => {
  it('closes and reopens a stale link still in use; a stale link no longer in use is only closed', () => {
    const open = new Map([
      ['data0', { mac: '02:00:00:00:00:01', errored: false }],
      ['data1', { mac: '02:00:00:00:00:01', errored: false }],
    ]);
    const plan = planLinkChanges(open, [link('data0'), link('data2')], new Set(['data0', 'data1']));
    expect(plan.close).toEqual(['data0', 'data1']);
    expect(plan.open.map((l) => l.name)).toEqual(['data0', 'data2']);
  });
});
