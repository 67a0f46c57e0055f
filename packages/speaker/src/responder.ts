import {
  arpReply,
  bytesToIpv4,
  bytesToIpv6,
  decodeFrame,
  findLinkLayerAddress,
  isBroadcast,
  neighborAdvertisement,
  solicitedNodeMac,
} from '@metallb-ts/l2-proto';

/** Answers "is `ip` announced by us on `link`?" (the speaker's current announcements). */
export type AnnouncedOn = (ip: string, link: string) => boolean;

export interface ResponderLink {
  name: string;
  mac: Buffer;
}

export type ResponderVerdict =
  | { kind: 'reply'; ip: string; protocol: 'arp' | 'ndp'; frame: Buffer }
  /** A well-formed request for an address we do not announce here: counted, not answered. */
  | { kind: 'not-ours'; ip: string; protocol: 'arp' | 'ndp' }
  | { kind: 'ignore'; why: string };

/**
 * The whole responder decision, pure: one received frame on one link -> the reply to inject, or
 * nothing. Answering only on the link the request came in on is what keeps multi-NIC hosts from
 * replying with the wrong MAC.
 */
export function respond(frame: Buffer, link: ResponderLink, announced: AnnouncedOn): ResponderVerdict {
  const decoded = decodeFrame(frame);
  if (!decoded.ok) return { kind: 'ignore', why: `undecodable: ${decoded.error.message}` };
  const d = decoded.value;
  if (d.ethernet.source.equals(link.mac)) return { kind: 'ignore', why: 'our own frame' };

  if (d.kind === 'arp') {
    const { arp, ethernet } = d;
    if (arp.operation !== 'request') return { kind: 'ignore', why: 'ARP reply' };
    if (!isBroadcast(ethernet.destination) && !ethernet.destination.equals(link.mac)) {
      return { kind: 'ignore', why: 'ARP request not addressed to us' };
    }
    // A request whose sender IP is its target IP is an announcement or probe, not a question.
    if (arp.senderIp.equals(arp.targetIp)) return { kind: 'ignore', why: 'gratuitous ARP' };
    const ip = bytesToIpv4(arp.targetIp);
    if (!announced(ip, link.name)) return { kind: 'not-ours', ip, protocol: 'arp' };
    return {
      kind: 'reply',
      ip,
      protocol: 'arp',
      frame: arpReply({
        ourMac: link.mac,
        vip: arp.targetIp,
        askerMac: arp.senderMac,
        askerIp: arp.senderIp,
        ...(ethernet.vlan ? { vlan: ethernet.vlan } : {}),
      }),
    };
  }

  if (d.kind === 'ndp-ns') {
    const { ns, ipv6, ethernet } = d;
    const dest = ethernet.destination;
    if (!dest.equals(link.mac) && !dest.equals(solicitedNodeMac(ns.target))) {
      return { kind: 'ignore', why: 'Neighbor Solicitation not addressed to us' };
    }
    const ip = bytesToIpv6(ns.target);
    if (!announced(ip, link.name)) return { kind: 'not-ours', ip, protocol: 'ndp' };
    const askerMac = findLinkLayerAddress(ns.options, 'source-link-layer-address') ?? ethernet.source;
    return {
      kind: 'reply',
      ip,
      protocol: 'ndp',
      frame: neighborAdvertisement({
        ourMac: link.mac,
        target: ns.target,
        toMac: askerMac,
        toIp: ipv6.source,
        // A DAD probe (from ::) is answered to all-nodes with Solicited=0 by the builder itself.
        solicited: true,
        // Override: after a failover the asker must replace the old node's MAC.
        override: true,
        router: false,
        ...(ethernet.vlan ? { vlan: ethernet.vlan } : {}),
      }),
    };
  }
  return { kind: 'ignore', why: `not a request (${d.kind})` };
}
