import { describe, expect, it } from '@jest/globals';
import { selectorLabels } from '@metallb-ts/manifests';
import {
  daemonSetOwner,
  labelSelector,
  peerNames,
  speakerNodes,
  type SpeakerPod,
} from '../src/speaker-peers.js';

const LABELS = selectorLabels('speaker');
const pod = (name: string, node: string | undefined, o: Partial<SpeakerPod> = {}): SpeakerPod => ({
  metadata: { name, labels: { ...LABELS, 'app.kubernetes.io/version': 'v1' } },
  spec: node ? { nodeName: node } : {},
  status: { phase: 'Running' },
  ...o,
});

describe('speaker peers', () => {
  it('the selector is the DaemonSet selector, as a watch takes it', () => {
    expect(labelSelector(LABELS)).toBe(
      'app.kubernetes.io/component=speaker,app.kubernetes.io/name=metallb-ts',
    );
  });

  it('members are the nodes running a scheduled, unfinished speaker Pod; a Node without one is not a member', () => {
    const nodes = speakerNodes(
      [
        pod('speaker-a', 'node-1'),
        pod('speaker-b', 'node-2'),
        // A rolling update: old and new Pod on one node.
        pod('speaker-b2', 'node-2', { status: { phase: 'Pending' } }),
        pod('speaker-pending', undefined),
        pod('speaker-done', 'node-4', { status: { phase: 'Failed' } }),
        pod('speaker-gone', 'node-5', { status: { phase: 'Succeeded' } }),
        // Another app's Pod in the namespace (a fake API server that ignores the selector).
        { metadata: { name: 'other', labels: { app: 'x' } }, spec: { nodeName: 'node-6' } },
      ],
      LABELS,
    );
    expect([...nodes].sort()).toEqual(['node-1', 'node-2']);
  });

  it('peers leave out ourselves and nodes without an address', () => {
    const addr: Record<string, string> = { 'node-1': '198.51.100.11', 'node-3': '198.51.100.13' };
    expect(peerNames('node-1', new Set(['node-3', 'node-1', 'node-2']), (n) => addr[n])).toEqual(['node-3']);
  });

  it("the shared objects' owner is the DaemonSet controlling the speaker Pods", () => {
    const ds = { apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'speaker', uid: 'u-1', controller: true };
    const owned = pod('speaker-a', 'node-1', {
      metadata: { name: 'speaker-a', labels: LABELS, ownerReferences: [ds] },
    });
    expect(daemonSetOwner([pod('lab', 'node-2'), owned], LABELS)).toEqual({
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      name: 'speaker',
      uid: 'u-1',
    });
    expect(daemonSetOwner([pod('lab', 'node-2')], LABELS)).toBeUndefined();
  });
});
