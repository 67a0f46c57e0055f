import { describe, expect, it } from '@jest/globals';
import { serviceIntent } from '../src/service-intent.js';

const svc = (loadBalancerIPs: string) => ({
  metadata: { name: 's', namespace: 'ns', annotations: { 'metallb.io/loadBalancerIPs': loadBalancerIPs } },
  spec: { type: 'LoadBalancer' },
});

describe('requested addresses', () => {
  it('drop the spaces around commas, as MetalLB does', () => {
    const intent = serviceIntent(svc(' 203.0.113.5 ,\t2001:db8::5 '));
    expect(intent.kind === 'allocate' && intent.request.requestedIPs).toEqual(['203.0.113.5', '2001:db8::5']);
  });

  it('keep a byte-order mark, which is not space, so a refusal names the value as written', () => {
    const intent = serviceIntent(svc('\u0007\ufeff&6\ufeff'));
    expect(intent.kind === 'allocate' && intent.request.requestedIPs).toEqual(['\u0007\ufeff&6\ufeff']);
  });
});
