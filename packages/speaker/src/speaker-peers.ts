/**
 * Who the gossip peers are, from the API server: the nodes that run a speaker Pod (pods in the
 * install namespace carrying the speaker DaemonSet's selector labels, scheduled to a node, not
 * finished). A Node without a speaker (a nodeSelector, a tainted control-plane node) is no
 * member, so it never counts in the quorum's denominator. Pure.
 */
import type { KubeObject, OwnerReference } from '@metallb-ts/k8s-runtime';

export interface SpeakerPod extends KubeObject {
  spec?: { nodeName?: string };
  status?: { phase?: string };
}

/** `a=b,c=d`, for a watch's labelSelector. */
export function labelSelector(labels: Readonly<Record<string, string>>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .sort()
    .join(',');
}

function matches(pod: SpeakerPod, labels: Readonly<Record<string, string>>): boolean {
  const own = pod.metadata?.labels ?? {};
  return Object.entries(labels).every(([k, v]) => own[k] === v);
}

/** The nodes running a speaker Pod that is scheduled and has not finished. */
export function speakerNodes(
  pods: readonly SpeakerPod[],
  labels: Readonly<Record<string, string>>,
): Set<string> {
  const nodes = new Set<string>();
  for (const p of pods) {
    const node = p.spec?.nodeName;
    const phase = p.status?.phase;
    if (!node || phase === 'Succeeded' || phase === 'Failed' || !matches(p, labels)) continue;
    nodes.add(node);
  }
  return nodes;
}

/** The peers: speaker nodes other than `self` that have an address to gossip with, sorted. */
export function peerNames(
  self: string,
  speakers: ReadonlySet<string>,
  addressOf: (node: string) => string | undefined,
): string[] {
  return [...speakers].filter((n) => n !== self && addressOf(n) !== undefined).sort();
}

/**
 * The owner for objects all speakers share (the tie-break Lease): the DaemonSet that controls
 * the speaker Pods, so the Lease goes with an uninstall and not with any one Pod.
 */
export function daemonSetOwner(
  pods: readonly SpeakerPod[],
  labels: Readonly<Record<string, string>>,
): OwnerReference | undefined {
  for (const p of pods) {
    if (!matches(p, labels)) continue;
    const ref = p.metadata?.ownerReferences?.find((r) => r.controller === true && r.kind === 'DaemonSet');
    if (ref) return { apiVersion: ref.apiVersion, kind: ref.kind, name: ref.name, uid: ref.uid };
  }
  return undefined;
}
