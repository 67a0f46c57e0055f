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

/**
 * Only what the responder answers reaches JavaScript: ARP requests (operation 1, at offset 6 of
 * the ARP header) and ICMPv6 Neighbor Solicitations, untagged or behind an 802.1Q tag. ARP
 * replies and gratuitous replies, which a busy LAN carries plenty of, stay in the kernel.
 */
const REQUESTS = '(arp and arp[6:2] == 1) or (icmp6 and ip6[40] == 135)';
export const RESPONDER_FILTER = `${REQUESTS} or (vlan and (${REQUESTS}))`;

export interface WireLink {
  readonly name: string;
  inject(frame: Buffer): void;
  close(): void;
  /** libpcap's counters since open: frames the filter passed, and frames the ring had no room for. */
  stats(): { received: number; dropped: number };
}

/** The largest frame we may have to read whole: 1500 bytes of payload behind two VLAN tags. */
export const CAPTURE_SNAP_LENGTH = 1500 + 14 + 4 + 4;
/**
 * Capture ring size per interface. The ring is mapped into the process and counts in full towards
 * its resident memory: libpcap cuts it into slots of the snap length plus ~80 bytes of header,
 * two to a 4 KiB page, so it costs ~1.25x this (the ring's mapping in /proc/<pid>/smaps: 2,620 KiB
 * resident at 2 MiB, 1,310 KiB at 1 MiB). 1 MiB is ~640 slots; only ARP requests and Neighbor
 * Solicitations pass the filter, so that is over half a second of a busy LAN's 1k requests/s, or
 * 64 ms of a 10k/s flood, while JavaScript is busy (a scavenge is under a millisecond). In
 * `pnpm bench responder` at 1 MiB every request of the paced runs up to 20k/s was answered, ARP
 * and NS, on a shared 2-core machine. What does overflow is counted in `stats().dropped`.
 */
export const CAPTURE_BUFFER_BYTES = 1024 * 1024;

/**
 * The libpcap session options. In immediate mode libpcap uses a ring of fixed slots each as large
 * as the snap length, so the snap length bounds how many requests wait while JavaScript is busy:
 * with pcap's default 65535 bytes a 10 MB ring holds ~150 frames, and a 15 ms pause (a GC, a busy
 * core) at 10k requests/s overflows it. Replies never need more than the frame itself.
 */
export function captureOptions(): {
  filter: string;
  buffer_timeout: number;
  promiscuous: boolean;
  snap_length: number;
  buffer_size: number;
} {
  return {
    filter: RESPONDER_FILTER,
    buffer_timeout: 0,
    promiscuous: false,
    snap_length: CAPTURE_SNAP_LENGTH,
    buffer_size: CAPTURE_BUFFER_BYTES,
  };
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
export function openLink(
  name: string,
  onFrame: (frame: Buffer) => void,
  onError: (error: Error) => void,
): WireLink {
  const session = pcap().createSession(name, captureOptions());
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
    stats: () => {
      const s = session.stats();
      return { received: s.ps_recv, dropped: s.ps_drop + s.ps_ifdrop };
    },
  };
}
