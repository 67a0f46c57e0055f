import { parseMac } from '@metallb-ts/l2-proto';
import type { Logger } from '@metallb-ts/k8s-runtime';
import {
  linkChanged,
  planLinkChanges,
  readLinkStamp,
  readLinks,
  selectLinks,
  type LinkInfo,
  type LinkStamp,
  type OpenLinkState,
} from './interfaces.js';
import { openLink, type WireLink } from './pcap-link.js';
import { respond, type AnnouncedOn, type ResponderLink } from './responder.js';
import type { SpeakerMetrics } from './speaker-metrics.js';

/** How the speaker reaches the machine's links: the OS and libpcap unless a test says otherwise. */
export interface LinkAccess {
  readLinks: () => LinkInfo[];
  openLink: typeof openLink;
  /** A link's stamp now (`readLinkStamp`); without it, only errors and the full rescan reopen. */
  readStamp?: (name: string) => LinkStamp | undefined;
}

/** An open link as the announcer needs it. */
export interface OpenLinkHandle {
  readonly name: string;
  readonly mac: Buffer;
  readonly inject: (frame: Buffer) => void;
}

interface OpenLink extends OpenLinkState {
  wire: WireLink;
  macBytes: Buffer;
  /** The link's stamp just before the capture opened: a later change means the capture is stale. */
  stamp: LinkStamp | undefined;
}

export interface LinkSetOptions {
  exclude: readonly RegExp[];
  access?: LinkAccess;
  logger: Logger;
  metrics: SpeakerMetrics;
  /** Whether an address is announced on a link now: the responder answers only then. */
  announcedOn: AnnouncedOn;
}

/** How often interfaces are re-read, to pick up links that appear, vanish or fail after start. */
export const LINK_RESCAN_MS = 10_000;
/** How often the open links' stamps and capture errors are checked (a flap must not deafen us for long). */
export const LINK_CHECK_MS = 1_000;

/**
 * The links this speaker answers on: opens and closes pcap captures as interfaces come and go,
 * and answers ARP/NDP requests for the addresses `announcedOn` says are ours on that link.
 */
export class LinkSet {
  private readonly links = new Map<string, OpenLink>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly o: LinkSetOptions) {}

  names(): string[] {
    return [...this.links.keys()];
  }

  get(name: string): OpenLinkHandle | undefined {
    const l = this.links.get(name);
    return l && { name, mac: l.macBytes, inject: (f) => l.wire.inject(f) };
  }

  /**
   * Checks the open links every `LINK_CHECK_MS` and re-reads all interfaces every `LINK_RESCAN_MS`;
   * `onChange` gets the names closed (including those reopened) when anything changed.
   */
  startRescans(onChange: (closed: string[]) => void): void {
    let ticks = 0;
    const everyRescan = Math.max(1, Math.round(LINK_RESCAN_MS / LINK_CHECK_MS));
    this.timer = setInterval(() => {
      ticks++;
      const changed = ticks % everyRescan === 0 ? this.sync(false) : this.check();
      if (changed) onChange(changed.closed);
    }, LINK_CHECK_MS);
    this.timer.unref();
  }

  /**
   * The cheap check: reads only the open links' stamps. Links whose capture errored or whose link
   * flapped or was re-created since open are reopened (through a full `sync`); the result is as
   * `sync`'s, undefined when every capture is still good.
   */
  check(): { closed: string[] } | undefined {
    const readStamp = this.o.access ? this.o.access.readStamp : readLinkStamp;
    const stale = new Set<string>();
    for (const [name, l] of this.links) {
      const why = l.errored
        ? 'capture reported an error'
        : l.stamp && readStamp
          ? linkChanged(l.stamp, readStamp(name))
          : undefined;
      if (!why) continue;
      stale.add(name);
      this.o.logger.warn('reopening capture', { interface: name, why });
    }
    return stale.size > 0 ? this.sync(false, stale) : undefined;
  }

  /**
   * Opens the links to answer on and closes those gone or failed; the closed names when anything
   * changed (the caller stops announcing on them and recomputes), undefined when nothing did.
   */
  sync(initial: boolean, stale: ReadonlySet<string> = new Set()): { closed: string[] } | undefined {
    const { logger } = this.o;
    let links: LinkInfo[];
    try {
      links = (this.o.access?.readLinks ?? readLinks)();
    } catch (error) {
      logger.error('cannot read interfaces', { error });
      return undefined;
    }
    const { use, skipped } = selectLinks(links, this.o.exclude);
    if (initial) {
      for (const s of skipped) logger.debug('interface skipped', { interface: s.name, why: s.why });
      if (use.length === 0) logger.error('no interface to answer on', { skipped });
    }
    const plan = planLinkChanges(this.links, use, stale);
    for (const name of plan.close) {
      const l = this.links.get(name);
      l?.wire.close();
      this.links.delete(name);
      logger.info('stopped answering on interface', { interface: name, errored: l?.errored });
    }
    let opened = 0;
    for (const l of plan.open) if (this.open(l)) opened++;
    return plan.close.length > 0 || opened > 0 ? { closed: plan.close } : undefined;
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    for (const l of this.links.values()) l.wire.close();
    this.links.clear();
  }

  private open(l: LinkInfo): boolean {
    const parsed = parseMac(l.mac);
    // selectLinks only passes links with a valid MAC.
    if (!parsed.ok) return false;
    const macBytes = parsed.value;
    // Built once per link: the per-frame path allocates nothing of its own before deciding.
    const responder: ResponderLink = { name: l.name, mac: macBytes };
    const readStamp = this.o.access ? this.o.access.readStamp : readLinkStamp;
    try {
      const entry: OpenLink = {
        mac: l.mac,
        macBytes,
        errored: false,
        // Read before opening: a flap in between shows as a change, and the next check reopens.
        stamp: readStamp?.(l.name),
        wire: (this.o.access?.openLink ?? openLink)(
          l.name,
          (frame) => this.onFrame(responder, entry.wire, frame),
          (error) => {
            entry.errored = true;
            this.o.logger.error('capture error', { interface: l.name, error });
          },
        ),
      };
      this.links.set(l.name, entry);
      this.o.logger.info('answering on interface', { interface: l.name, mac: l.mac });
      return true;
    } catch (error) {
      this.o.logger.error('cannot open interface', { interface: l.name, error });
      return false;
    }
  }

  private onFrame(link: ResponderLink, wire: WireLink, frame: Buffer): void {
    const verdict = respond(frame, link, this.o.announcedOn);
    // Counted per owned IP only: labelling every address asked about on the LAN would explode the series.
    if (verdict.kind !== 'reply') return;
    this.o.metrics.requestReceived(verdict.ip);
    try {
      wire.inject(verdict.frame);
    } catch (error) {
      // One lost reply (the asker retries); not a broken capture, so the link stays open.
      this.o.logger.warn('sending reply failed', { ip: verdict.ip, interface: link.name, error });
      return;
    }
    this.o.metrics.responseSent(verdict.ip);
  }
}
