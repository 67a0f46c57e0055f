/** One (protocol, port) a service exposes. */
export interface PortSpec {
  protocol: string;
  port: number;
}

/**
 * What a service says about sharing its address: the `allow-shared-ip` key, its ports, and its
 * backend (`Cluster`, or `Local:<selector>` — two Local services share only with identical selectors).
 */
export interface SharingRequest {
  key: string;
  ports: PortSpec[];
  backend: string;
}

/**
 * Why two services may not share one address, or undefined when they may. Symmetric by
 * construction: every rule compares the two sides the same way.
 */
export function sharingConflict(
  a: SharingRequest | undefined,
  b: SharingRequest | undefined,
): string | undefined {
  if (a === undefined || a.key === '' || b === undefined || b.key === '')
    return 'both services need the same allow-shared-ip key';
  if (a.key !== b.key) return `their allow-shared-ip keys differ ("${a.key}" and "${b.key}")`;
  if (a.backend !== b.backend) return `their backends differ (${a.backend} and ${b.backend})`;
  for (const p of a.ports) {
    for (const q of b.ports) {
      if (p.port === q.port && p.protocol === q.protocol) return `both use ${p.protocol}/${p.port}`;
    }
  }
  return undefined;
}
