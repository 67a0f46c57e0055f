import { createRequire } from 'node:module';
import type PcapModule from 'pcap';

type Pcap = typeof PcapModule;
let loaded: Pcap | undefined;
/**
 * libpcap's binding is native code: load it on the first `openLink`, so that importing the
 * speaker's public surface (tests, tools that only decide) never needs libpcap.
 */
function pcap(): Pcap {
  loaded ??= createRequire(import.meta.url)('pcap') as Pcap;
  return loaded;
}

/** Only what the responder needs reaches JavaScript: ARP and ICMPv6 Neighbor Solicitations. */
export const RESPONDER_FILTER =
  'arp or (icmp6 and ip6[40] == 135) or (vlan and (arp or (icmp6 and ip6[40] == 135)))';

export interface WireLink {
  readonly name: string;
  inject(frame: Buffer): void;
  close(): void;
}

interface RawPacket {
  buf: Buffer;
  header: Buffer;
}

/**
 * One libpcap session on one interface: capture with the BPF filter, inject replies. Immediate
 * mode (buffer_timeout 0) matters: without it libpcap holds frames up to a second before we see
 * them, and the asker has long given up.
 */
export function openLink(name: string, onFrame: (frame: Buffer) => void, onError: (error: Error) => void): WireLink {
  const session = pcap().createSession(name, { filter: RESPONDER_FILTER, buffer_timeout: 0, promiscuous: false });
  session.on('packet', (raw: RawPacket) => {
    // The capture buffer is reused for the next packet: the frame is a view valid only during this call.
    const caplen = raw.header.readUInt32LE(8);
    try {
      onFrame(raw.buf.subarray(0, caplen));
    } catch (error) {
      onError(error as Error);
    }
  });
  session.on('error', (e: Error) => onError(e));
  return {
    name,
    inject: (frame) => session.inject(frame),
    close: () => session.close(),
  };
}
