import { describe, expect, it } from '@jest/globals';
import { isOurLoadBalancer } from '../src/index.js';

describe('isOurLoadBalancer', () => {
  const lb = (loadBalancerClass?: string) => ({
    spec: { type: 'LoadBalancer', ...(loadBalancerClass ? { loadBalancerClass } : {}) },
  });

  it('rejects other Service types, naming the type (ClusterIP when unset)', () => {
    expect(isOurLoadBalancer({ spec: { type: 'NodePort' } })).toEqual({
      ours: false,
      reason: 'type is NodePort, not LoadBalancer',
    });
    expect(isOurLoadBalancer({})).toEqual({ ours: false, reason: 'type is ClusterIP, not LoadBalancer' });
  });

  it('without a class of our own, takes only Services without a class', () => {
    expect(isOurLoadBalancer(lb())).toEqual({ ours: true });
    expect(isOurLoadBalancer(lb('example.com/other'))).toEqual({
      ours: false,
      reason: 'loadBalancerClass example.com/other is not ours ((none))',
    });
  });

  it('with a class, takes only Services of exactly that class', () => {
    expect(isOurLoadBalancer(lb('metallb.io/x'), 'metallb.io/x')).toEqual({ ours: true });
    expect(isOurLoadBalancer(lb(), 'metallb.io/x')).toEqual({
      ours: false,
      reason: 'loadBalancerClass (none) is not ours (metallb.io/x)',
    });
    expect(isOurLoadBalancer(lb('metallb.io/y'), 'metallb.io/x').ours).toBe(false);
  });
});
