import {
  gratuitousArp,
  ipv4ToBytes,
  ipv6ToBytes,
  mldv2Report,
  solicitedNodeMulticast,
  unsolicitedNeighborAdvertisement,
} from '@metallb-ts/l2-proto';
import { SPEAKER_SETTINGS } from '@metallb-ts/manifests';

export interface AnnouncerLink {
  name: string;
  mac: Buffer;
  inject(frame: Buffer): void;
}

export interface AnnouncerOptions {
  /** Delays (ms after takeover) of the gratuitous burst. */
  burstMs: readonly number[];
  /** After the burst, re-announce this often for as long as we hold the address (0 = never). */
  refreshMs: number;
  onSent?: (ip: string, link: string, frames: number) => void;
  onError?: (ip: string, link: string, error: Error) => void;
}

/**
 * Default timing, the defaults of the speaker's ANNOUNCE_BURST_MS and ANNOUNCE_REFRESH_MS settings:
 * a dense burst right after takeover, so clients and switches move within the first second even if
 * a frame is lost, then a slow refresh so a switch's FDB entry (often aged out after 300 s) never
 * expires while we hold the VIP — MetalLB stops after 5 s.
 */
export const DEFAULT_ANNOUNCER_OPTIONS: AnnouncerOptions = {
  burstMs: SPEAKER_SETTINGS.defs.announceBurstMs.default,
  refreshMs: SPEAKER_SETTINGS.defs.announceRefreshMs.default,
};

interface Held {
  timers: NodeJS.Timeout[];
}

/** Keeps the gratuitous announcements for the addresses this node holds on each link. */
export class Announcer {
  private readonly held = new Map<string, Held>();

  constructor(private readonly opts: AnnouncerOptions = DEFAULT_ANNOUNCER_OPTIONS) {}

  /** Start announcing `ip` on `link` (no-op when already announcing it there). */
  start(ip: string, link: AnnouncerLink): void {
    const key = `${ip}|${link.name}`;
    if (this.held.has(key)) return;
    const frames = announcementFrames(ip, link.mac);
    const send = () => {
      try {
        for (const f of frames) link.inject(f);
        this.opts.onSent?.(ip, link.name, frames.length);
      } catch (e) {
        this.opts.onError?.(ip, link.name, e as Error);
      }
    };
    const timers = this.opts.burstMs.map((ms) => setTimeout(send, ms));
    if (this.opts.refreshMs > 0) {
      const last = Math.max(0, ...this.opts.burstMs);
      timers.push(setTimeout(() => held.timers.push(setInterval(send, this.opts.refreshMs)), last));
    }
    const held: Held = { timers };
    this.held.set(key, held);
  }

  stop(ip: string, linkName: string): void {
    const key = `${ip}|${linkName}`;
    const h = this.held.get(key);
    if (!h) return;
    for (const t of h.timers) clearTimeout(t);
    this.held.delete(key);
  }

  stopAll(): void {
    for (const key of [...this.held.keys()]) {
      const [ip, link] = key.split('|') as [string, string];
      this.stop(ip, link);
    }
  }

  announcing(): string[] {
    return [...this.held.keys()];
  }
}

/**
 * IPv4: both a gratuitous request and a gratuitous reply, since hosts differ in which they act on.
 * IPv6: an MLDv2 report joining the VIP's solicited-node group (so MLD-snooping switches forward
 * solicitations to us) and an unsolicited NA with Override.
 */
export function announcementFrames(ip: string, mac: Buffer): Buffer[] {
  if (!ip.includes(':')) {
    const addr = ipv4ToBytes(ip);
    if (!addr.ok) return [];
    return [
      gratuitousArp({ mac, ip: addr.value, kind: 'request' }),
      gratuitousArp({ mac, ip: addr.value, kind: 'reply' }),
    ];
  }
  const addr = ipv6ToBytes(ip);
  if (!addr.ok) return [];
  return [
    mldv2Report({ mac, join: [solicitedNodeMulticast(addr.value)] }),
    unsolicitedNeighborAdvertisement({ mac, ip: addr.value }),
  ];
}
