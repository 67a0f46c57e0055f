import { describe, expect, it } from '@jest/globals';
import { readSettings, SPEAKER_SETTINGS } from '@metallb-ts/manifests';
import { DEFAULT_ANNOUNCER_OPTIONS } from '../src/announcer.js';
import { membershipChoice, speakerOptions } from '../src/speaker-options.js';

const read = (env: Record<string, string>) => {
  const r = readSettings(SPEAKER_SETTINGS, env);
  if (!r.ok) throw new Error(r.errors.join('; '));
  return r.value;
};

describe('speakerOptions', () => {
  it('from the defaults: the announcer defaults, MetalLB exclusions, gossip on 7946, no class', () => {
    const s = read({ NODE_NAME: 'node-a' });
    const o = speakerOptions(s);
    expect(o.nodeName).toBe('node-a');
    expect(o.namespace).toBe('metallb-system');
    expect(o.announcer).toEqual({
      burstMs: DEFAULT_ANNOUNCER_OPTIONS.burstMs,
      refreshMs: DEFAULT_ANNOUNCER_OPTIONS.refreshMs,
    });
    expect(membershipChoice(s)).toEqual({
      kind: 'gossip',
      port: 7946,
      bindAddress: '0.0.0.0',
      secret: 'memberlist',
    });
    expect(o.exclude.some((r) => r.test('veth0'))).toBe(true);
    expect(o.ignoreExcludeLabel).toBe(false);
    expect(o).not.toHaveProperty('loadBalancerClass');
  });

  it('carries every setting that was given', () => {
    const s = read({
      NODE_NAME: 'node-b',
      METALLB_NAMESPACE: 'lb',
      METALLB_INTERFACE_EXCLUDE: '^mgmt.*',
      MEMBERSHIP: 'lease',
      MEMBERSHIP_RENEW_MS: '500',
      MEMBERSHIP_LEASE_MS: '2000',
      ANNOUNCE_BURST_MS: '0,100',
      ANNOUNCE_REFRESH_MS: '0',
      IGNORE_EXCLUDE_LB: 'true',
      LOAD_BALANCER_CLASS: 'example.org/lb',
    });
    const o = speakerOptions(s);
    expect(membershipChoice(s)).toEqual({ kind: 'lease', renewMs: 500, leaseDurationMs: 2000 });
    expect(o).toMatchObject({
      nodeName: 'node-b',
      namespace: 'lb',
      announcer: { burstMs: [0, 100], refreshMs: 0 },
      ignoreExcludeLabel: true,
      loadBalancerClass: 'example.org/lb',
    });
    expect(o.exclude.map((r) => r.source)).toEqual(['^mgmt.*']);
  });

  it('gossip: port, bind address and Secret name from their settings', () => {
    const s = read({
      NODE_NAME: 'node-c',
      MEMBERLIST_PORT: '17946',
      MEMBERLIST_BIND_ADDRESS: '198.51.100.11',
      MEMBERLIST_SECRET: 'gossip-key',
    });
    expect(membershipChoice(s)).toEqual({
      kind: 'gossip',
      port: 17946,
      bindAddress: '198.51.100.11',
      secret: 'gossip-key',
    });
    expect(readSettings(SPEAKER_SETTINGS, { NODE_NAME: 'n', MEMBERSHIP: 'raft' })).toEqual({
      ok: false,
      errors: ['MEMBERSHIP "raft" is not gossip or lease'],
    });
  });
});
