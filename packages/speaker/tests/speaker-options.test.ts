import { describe, expect, it } from '@jest/globals';
import { readSettings, SPEAKER_SETTINGS } from '@metallb-ts/manifests';
import { DEFAULT_ANNOUNCER_OPTIONS } from '../src/announcer.js';
import { speakerOptions } from '../src/speaker-options.js';

const read = (env: Record<string, string>) => {
  const r = readSettings(SPEAKER_SETTINGS, env);
  if (!r.ok) throw new Error(r.errors.join('; '));
  return r.value;
};

describe('speakerOptions', () => {
  it('from the defaults: the announcer defaults, MetalLB exclusions, 1 s / 3 s membership, no class', () => {
    const o = speakerOptions(read({ NODE_NAME: 'node-a' }));
    expect(o.nodeName).toBe('node-a');
    expect(o.namespace).toBe('metallb-system');
    expect(o.announcer).toEqual({
      burstMs: DEFAULT_ANNOUNCER_OPTIONS.burstMs,
      refreshMs: DEFAULT_ANNOUNCER_OPTIONS.refreshMs,
    });
    expect(o.membership).toEqual({ renewMs: 1000, leaseDurationMs: 3000 });
    expect(o.exclude.some((r) => r.test('veth0'))).toBe(true);
    expect(o.ignoreExcludeLabel).toBe(false);
    expect(o).not.toHaveProperty('loadBalancerClass');
  });

  it('carries every setting that was given', () => {
    const o = speakerOptions(
      read({
        NODE_NAME: 'node-b',
        METALLB_NAMESPACE: 'lb',
        METALLB_INTERFACE_EXCLUDE: '^mgmt.*',
        MEMBERSHIP_RENEW_MS: '500',
        MEMBERSHIP_LEASE_MS: '2000',
        ANNOUNCE_BURST_MS: '0,100',
        ANNOUNCE_REFRESH_MS: '0',
        IGNORE_EXCLUDE_LB: 'true',
        LOAD_BALANCER_CLASS: 'example.org/lb',
      }),
    );
    expect(o).toMatchObject({
      nodeName: 'node-b',
      namespace: 'lb',
      membership: { renewMs: 500, leaseDurationMs: 2000 },
      announcer: { burstMs: [0, 100], refreshMs: 0 },
      ignoreExcludeLabel: true,
      loadBalancerClass: 'example.org/lb',
    });
    expect(o.exclude.map((r) => r.source)).toEqual(['^mgmt.*']);
  });
});
