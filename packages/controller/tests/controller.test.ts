import { describe, expect, it } from '@jest/globals';
import { FakeCluster, eventually, ingressOf, ipPool, lbService, startController } from './fake-cluster.js';

describe('Controller', () => {
  it('retries a Service waiting on a full pool when another Service moves off an address', async () => {
    const cluster = new FakeCluster();
    cluster.put(ipPool('small', ['10.0.0.0/32']));
    cluster.put(ipPool('manual', ['10.0.1.0/32'], { autoAssign: false }));
    cluster.put(lbService('first'));
    const controller = await startController(cluster);
    try {
      await eventually(() =>
        expect(ingressOf(cluster.get('Service', 'default', 'first'))).toEqual(['10.0.0.0']),
      );
      cluster.put(lbService('waiting'));
      await eventually(() =>
        expect(cluster.events.filter((e) => e.name === 'waiting').map((e) => e.reason)).toContain(
          'AllocationFailed',
        ),
      );
      // The move frees 10.0.0.0 and takes 10.0.1.0: the number of addresses in use does not change.
      cluster.put({
        ...lbService('first', { loadBalancerIP: '10.0.1.0' }),
        status: { loadBalancer: { ingress: [{ ip: '10.0.0.0' }] } },
      } as never);
      await eventually(() =>
        expect(ingressOf(cluster.get('Service', 'default', 'first'))).toEqual(['10.0.1.0']),
      );
      await eventually(() =>
        expect(ingressOf(cluster.get('Service', 'default', 'waiting'))).toEqual(['10.0.0.0']),
      );
    } finally {
      await controller.stop();
    }
  });
});
