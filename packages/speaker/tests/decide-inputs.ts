// What the speaker's decide reads besides Services and EndpointSlices (the pool configuration and
// the Nodes), built as the watch caches hand it out: one source for the unit tests and the decide
// bench.
import { LastGoodConfig, type Config, type IPAddressPool, type L2Advertisement } from '@metallb-ts/api';
import type { Node as KubeNode } from '@metallb-ts/k8s-runtime';

const NS = 'metallb-system';

export const ipAddressPool = (name: string, addresses: string[]): IPAddressPool => ({
  apiVersion: 'metallb.io/v1beta1',
  kind: 'IPAddressPool',
  metadata: { name, namespace: NS },
  spec: { addresses },
});

export const l2Advertisement = (name: string, spec: L2Advertisement['spec']): L2Advertisement => ({
  apiVersion: 'metallb.io/v1beta1',
  kind: 'L2Advertisement',
  metadata: { name, namespace: NS },
  spec,
});

/** The configuration served for `pools` (name → addresses) and the one L2Advertisement `l2`. */
export function l2Config(pools: Record<string, string[]>, advertisement: L2Advertisement['spec']): Config {
  return new LastGoodConfig().update({
    addressPools: [],
    ipAddressPools: Object.entries(pools).map(([name, addresses]) => ipAddressPool(name, addresses)),
    l2Advertisements: [l2Advertisement('l2', advertisement)],
  }).config;
}

/** A Node in zone z; `networkUnavailable` sets its NetworkUnavailable condition. */
export const kubeNode = (name: string, networkUnavailable = false): KubeNode =>
  ({
    metadata: { name, labels: { zone: 'z' } },
    status: { conditions: networkUnavailable ? [{ type: 'NetworkUnavailable', status: 'True' }] : [] },
  }) as KubeNode;
