import { describe, expect, it } from '@jest/globals';
import { createRegistry, runComponent, silentLogger } from '@metallb-ts/k8s-runtime';
import { until } from '@metallb-ts/k8s-runtime/testing';
import { controllerWork } from '../src/controller-work.js';
import type { Controller } from '../src/controller.js';
import { FakeCluster, NS, eventually, ingressOf, ipPool, lbService } from './fake-cluster.js';

describe('the controller under leader election', () => {
  it('stops allocating when its lease is lost, and a fresh Controller takes over, keeping every address, when it wins again', async () => {
    const cluster = new FakeCluster();
    cluster.put(ipPool('pool', ['10.0.0.0/28']));
    cluster.put(lbService('before'));
    const exits: number[] = [];
    const terms: Controller[] = [];
    const work = controllerWork({ namespace: NS });
    const run = await runComponent({
      name: 'controller',
      settings: { namespace: NS, metricsHost: '127.0.0.1', metricsPort: 0, logLevel: 'none' },
      eventSource: 'metallb-controller',
      leaderElection: {
        lease: 'controller',
        identity: 'c1',
        leaseDurationMs: 400,
        renewDeadlineMs: 200,
        retryPeriodMs: 20,
      },
      work: (ctx) => {
        const c = work(ctx);
        terms.push(c);
        return c;
      },
      connect: () => cluster.kube,
      exit: (code) => exits.push(code),
      signals: [],
      logger: silentLogger,
      registry: createRegistry({ defaultMetrics: false }),
    });
    try {
      await eventually(() =>
        expect(ingressOf(cluster.get('Service', 'default', 'before'))).toEqual(['10.0.0.0']),
      );
      cluster.kube.down = true; // renewals fail until the deadline passes: the term ends
      await until(() => !run.isLeader() && !terms[0]!.ready, 'the first term to end', 3000);
      // A Service created while nobody leads is left alone...
      cluster.put(lbService('while-down'));
      cluster.kube.down = false;
      // ...until the lease is won again: a second Controller, which restores before allocating.
      await until(() => run.isLeader() && terms.length === 2 && terms[1]!.ready, 'a second term', 5000);
      await eventually(() =>
        expect(ingressOf(cluster.get('Service', 'default', 'while-down'))).toEqual(['10.0.0.1']),
      );
      expect(ingressOf(cluster.get('Service', 'default', 'before'))).toEqual(['10.0.0.0']);
      // The first term's Controller wrote nothing after it stopped: no Service got an address twice.
      expect(terms[0]!.allocator.assignment('default/while-down')).toBeUndefined();
      expect(exits).toEqual([]);
    } finally {
      await run.stop('test over');
    }
    expect(exits).toEqual([0]);
  });
});
