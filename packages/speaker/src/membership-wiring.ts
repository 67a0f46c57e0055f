import type {
  CacheFactory,
  EventRecorder,
  KubeReader,
  KubeWriter,
  Logger,
  Registry,
} from '@metallb-ts/k8s-runtime';
import { LEASES, selectorLabels } from '@metallb-ts/manifests';
import { GossipMembershipPort } from './gossip-membership.js';
import { LeaseMembershipPort } from './lease-membership.js';
import type { MembershipPort } from './membership-port.js';
import type { MembershipContext, SpeakerOptions } from './speaker.js';
import type { MembershipChoice } from './speaker-options.js';

export interface MembershipWiring {
  kube: CacheFactory & Pick<KubeReader, 'get'> & Pick<KubeWriter, 'create' | 'replace' | 'patch' | 'delete'>;
  logger: Logger;
  registry: Registry;
  events: EventRecorder;
  options: Pick<SpeakerOptions, 'nodeName' | 'namespace'>;
}

/** The membership implementation the settings choose, as the Speaker's factory. */
export function membershipPort(
  choice: MembershipChoice,
  w: MembershipWiring,
): (ctx: MembershipContext) => MembershipPort {
  return ({ nodes }) => {
    if (choice.kind === 'lease')
      return new LeaseMembershipPort(w.kube, {
        nodeName: w.options.nodeName,
        namespace: w.options.namespace,
        renewMs: choice.renewMs,
        leaseDurationMs: choice.leaseDurationMs,
        nodeNames: () => nodes.list().map((n) => n.metadata?.name ?? ''),
        logger: w.logger,
      });
    return new GossipMembershipPort({
      nodeName: w.options.nodeName,
      namespace: w.options.namespace,
      secret: choice.secret,
      port: choice.port,
      bindAddress: choice.bindAddress,
      kube: w.kube,
      speakerLabels: selectorLabels('speaker'),
      nodes,
      tieBreak: { kube: w.kube, lease: LEASES.speakerTieBreak },
      logger: w.logger,
      registry: w.registry,
      events: w.events,
    });
  };
}
