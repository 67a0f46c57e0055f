import { describe, expect, it } from '@jest/globals';
import {
  ANNOTATIONS,
  GROUP,
  LEGACY_ANNOTATIONS,
  SERVICE_L2_STATUS_LABELS,
  findServiceAnnotation,
  readServiceAnnotation,
} from '../src/index.js';

describe('service annotations', () => {
  it('has both prefixes for every annotation', () => {
    expect(GROUP).toBe('metallb.io');
    expect(ANNOTATIONS.addressPool).toBe('metallb.io/address-pool');
    expect(LEGACY_ANNOTATIONS.allowSharedIP).toBe('metallb.universe.tf/allow-shared-ip');
    expect(LEGACY_ANNOTATIONS.loadBalancerIPs).toBe('metallb.universe.tf/loadBalancerIPs');
    expect(ANNOTATIONS.ipAllocatedFromPool).toBe('metallb.io/ip-allocated-from-pool');
    expect(SERVICE_L2_STATUS_LABELS).toEqual({
      node: 'metallb.io/node',
      serviceName: 'metallb.io/service-name',
      serviceNamespace: 'metallb.io/service-namespace',
    });
  });

  it('reads the new prefix first, then the legacy one', () => {
    expect(
      readServiceAnnotation(
        { 'metallb.universe.tf/address-pool': 'old', 'metallb.io/address-pool': 'new' },
        'address-pool',
      ),
    ).toBe('new');
    expect(readServiceAnnotation({ 'metallb.universe.tf/address-pool': 'old' }, 'address-pool')).toBe('old');
    expect(findServiceAnnotation({ 'metallb.universe.tf/allow-shared-ip': 'k' }, 'allow-shared-ip')).toEqual({
      key: 'metallb.universe.tf/allow-shared-ip',
      value: 'k',
      legacy: true,
    });
    expect(readServiceAnnotation({}, 'loadBalancerIPs')).toBeUndefined();
    expect(readServiceAnnotation(undefined, 'loadBalancerIPs')).toBeUndefined();
  });
});
