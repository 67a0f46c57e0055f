import { describe, expect, it } from '@jest/globals';
import type { Condition } from '@metallb-ts/api';
import {
  degradedEvent,
  metallbConditions,
  type DaemonSetObserved,
  type DeploymentObserved,
  type MetalLBObserved,
} from '../src/conditions.js';

const NOW = new Date('2026-01-02T03:04:05.678Z');
const EARLIER = '2026-01-01T00:00:00Z';

const deployment = (
  generation: number,
  status: DeploymentObserved['status'],
  replicas = 1,
): DeploymentObserved => ({
  metadata: { namespace: 'metallb-system', name: 'controller', generation },
  spec: { replicas },
  status,
});
const daemonSet = (generation: number, status: DaemonSetObserved['status']): DaemonSetObserved => ({
  metadata: { namespace: 'metallb-system', name: 'speaker', generation },
  status,
});
const deployed = deployment(2, { observedGeneration: 2, replicas: 1, readyReplicas: 1, updatedReplicas: 1 });
const rolled = daemonSet(3, {
  observedGeneration: 3,
  desiredNumberScheduled: 3,
  currentNumberScheduled: 3,
  numberReady: 3,
  updatedNumberScheduled: 3,
});
const base: MetalLBObserved = {
  deploymentName: 'metallb-system/controller',
  daemonSetName: 'metallb-system/speaker',
  deployment: deployed,
  daemonSet: rolled,
};

type Row = {
  name: string;
  observed: MetalLBObserved;
  /** type -> [status, reason, message substrings] */
  want: Record<string, [Condition['status'], string, ...string[]]>;
};

const rows: Row[] = [
  {
    name: 'both rolled out: Available, Upgradeable, not Progressing, not Degraded',
    observed: base,
    want: {
      Available: ['True', 'AllComponentsReady'],
      Progressing: ['False', 'AllComponentsReady'],
      Degraded: ['False', 'AsExpected'],
      Upgradeable: ['True', 'AllComponentsReady'],
    },
  },
  {
    name: 'nothing there yet: Progressing names both missing objects',
    observed: { ...base, deployment: undefined, daemonSet: undefined },
    want: {
      Available: [
        'False',
        'ComponentsNotReady',
        'controller Deployment metallb-system/controller does not exist',
      ],
      Progressing: [
        'True',
        'ComponentsRollingOut',
        'controller Deployment metallb-system/controller does not exist yet',
        'speaker DaemonSet metallb-system/speaker does not exist yet',
      ],
      Degraded: ['False', 'AsExpected'],
      Upgradeable: ['False', 'ComponentsRollingOut', 'wait for the rollout'],
    },
  },
  {
    name: 'Deployment generation not yet observed',
    observed: {
      ...base,
      deployment: deployment(3, { observedGeneration: 2, readyReplicas: 1, updatedReplicas: 1 }),
    },
    want: {
      Available: ['False', 'ComponentsNotReady', 'generation 3 not yet seen', '(observed 2)'],
      Progressing: ['True', 'ComponentsRollingOut', 'controller Deployment metallb-system/controller'],
    },
  },
  {
    name: 'Deployment ready but not updated',
    observed: {
      ...base,
      deployment: deployment(2, { observedGeneration: 2, readyReplicas: 2, updatedReplicas: 1 }, 2),
    },
    want: {
      Progressing: ['True', 'ComponentsRollingOut', '1 of 2 replicas updated, 2 of 2 ready'],
      Available: ['False', 'ComponentsNotReady'],
    },
  },
  {
    name: 'DaemonSet rolling: one of three updated',
    observed: {
      ...base,
      daemonSet: daemonSet(4, {
        observedGeneration: 4,
        desiredNumberScheduled: 3,
        currentNumberScheduled: 3,
        numberReady: 2,
        updatedNumberScheduled: 1,
      }),
    },
    want: {
      Progressing: [
        'True',
        'ComponentsRollingOut',
        'speaker DaemonSet metallb-system/speaker: 1 of 3 pods updated, 2 of 3 ready',
      ],
      Available: ['False', 'ComponentsNotReady'],
      Upgradeable: ['False', 'ComponentsRollingOut'],
    },
  },
  {
    name: 'DaemonSet generation not observed although counts match',
    observed: {
      ...base,
      daemonSet: daemonSet(5, { ...rolled.status, observedGeneration: 4 }),
    },
    want: { Available: ['False', 'ComponentsNotReady', 'speaker DaemonSet', 'generation 5'] },
  },
  {
    name: 'DaemonSet on zero nodes counts as rolled out (nothing to wait for)',
    observed: {
      ...base,
      daemonSet: daemonSet(1, {
        observedGeneration: 1,
        desiredNumberScheduled: 0,
        currentNumberScheduled: 0,
        numberReady: 0,
        updatedNumberScheduled: 0,
      }),
    },
    want: { Available: ['True', 'AllComponentsReady'] },
  },
  {
    name: 'apply failed: Degraded names the object and the error; not Upgradeable',
    observed: {
      ...base,
      applyFailures: [
        { object: 'ClusterRole metallb-ts:speaker', error: 'forbidden: attempt to grant extra privileges' },
      ],
    },
    want: {
      Degraded: [
        'True',
        'ApplyFailed',
        'ClusterRole metallb-ts:speaker: forbidden: attempt to grant extra privileges',
      ],
      Available: ['True', 'AllComponentsReady'],
      Upgradeable: ['False', 'ApplyFailed', 'ClusterRole metallb-ts:speaker'],
    },
  },
  {
    name: 'ipfailover present: Degraded names the deployment and says MetalLB is deployed anyway',
    observed: { ...base, ipFailover: ['default/ipfailover-keepalived'] },
    want: {
      Degraded: ['True', 'IPFailoverPresent', 'default/ipfailover-keepalived', 'MetalLB is deployed anyway'],
      Available: ['True', 'AllComponentsReady'],
    },
  },
  {
    name: 'apply failure and ipfailover: the first reason wins, both are told',
    observed: {
      ...base,
      ipFailover: ['a/b'],
      applyFailures: [{ object: 'DaemonSet metallb-system/speaker', error: 'boom' }],
    },
    want: { Degraded: ['True', 'ApplyFailed', 'DaemonSet metallb-system/speaker: boom', 'Deployment a/b'] },
  },
  {
    name: 'another name: Degraded IncorrectMetalLBResourceName and nothing else counts',
    observed: {
      ...base,
      incorrectName: { actual: 'metallb-system/other', expected: 'metallb-system/metallb' },
      ipFailover: ['a/b'],
    },
    want: {
      Degraded: [
        'True',
        'IncorrectMetalLBResourceName',
        'metallb-system/other is ignored',
        'rename it to metallb-system/metallb',
      ],
      Available: ['False', 'IncorrectMetalLBResourceName'],
      Progressing: ['False', 'IncorrectMetalLBResourceName'],
      Upgradeable: ['False', 'IncorrectMetalLBResourceName'],
    },
  },
];

describe('metallbConditions', () => {
  it.each(rows)('$name', ({ observed, want }) => {
    const got = metallbConditions(observed, 7, NOW);
    expect(got.map((c) => c.type)).toEqual(['Available', 'Progressing', 'Degraded', 'Upgradeable']);
    for (const c of got) {
      expect(c.observedGeneration).toBe(7);
      expect(c.lastTransitionTime).toBe('2026-01-02T03:04:05Z');
      expect(c.message.length).toBeGreaterThan(0);
    }
    for (const [type, [status, reason, ...parts]] of Object.entries(want)) {
      const c = got.find((x) => x.type === type)!;
      expect({ type, status: c.status, reason: c.reason }).toEqual({ type, status, reason });
      for (const p of parts) expect(c.message).toContain(p);
    }
  });

  it('keeps lastTransitionTime when the status did not change and sets it when it did', () => {
    const previous = metallbConditions({ ...base, deployment: undefined }, 1, new Date(EARLIER));
    const got = metallbConditions(base, 2, NOW, previous);
    const at = (t: string) => got.find((c) => c.type === t)!.lastTransitionTime;
    // Degraded stayed False (reason and message alike): the old time stays.
    expect(at('Degraded')).toBe(EARLIER);
    // Available went False -> True, Progressing True -> False.
    expect(at('Available')).toBe('2026-01-02T03:04:05Z');
    expect(at('Progressing')).toBe('2026-01-02T03:04:05Z');
  });

  it('keeps conditions of other types that someone else wrote', () => {
    const other: Condition = {
      type: 'WebhookReady',
      status: 'True',
      reason: 'Serving',
      message: 'x',
      lastTransitionTime: EARLIER,
    };
    const got = metallbConditions(base, 1, NOW, [other]);
    expect(got).toContainEqual(other);
    expect(got).toHaveLength(5);
  });
});

describe('degradedEvent', () => {
  const healthy = metallbConditions(base, 1, NOW);
  const failover = metallbConditions({ ...base, ipFailover: ['x/y'] }, 1, NOW);
  it('warns when Degraded turns True', () => {
    expect(degradedEvent(healthy, failover)).toEqual({
      type: 'Warning',
      reason: 'IPFailoverPresent',
      message: expect.stringContaining('x/y'),
    });
    expect(degradedEvent(undefined, failover)?.reason).toBe('IPFailoverPresent');
  });
  it('does not repeat the same Degraded condition, but tells a new message', () => {
    expect(degradedEvent(failover, failover)).toBeUndefined();
    const two = metallbConditions({ ...base, ipFailover: ['x/y', 'z/w'] }, 1, NOW);
    expect(degradedEvent(failover, two)?.message).toContain('z/w');
  });
  it('says nothing while healthy', () => {
    expect(degradedEvent(failover, healthy)).toBeUndefined();
    expect(degradedEvent(undefined, healthy)).toBeUndefined();
  });
});
