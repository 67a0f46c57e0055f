import { parseMac } from '@metallb-ts/l2-proto';
import type { Logger } from '@metallb-ts/k8s-runtime';
import { planLinkChanges, readLinks, selectLinks, type LinkInfo, type OpenLinkState } from './interfaces.js';
import { openLink, type WireLink } from './pcap-link.js';
import { respond, type AnnouncedOn, type ResponderLink } from './responder.js';
import type { SpeakerMetrics } from './speaker-metrics.js';

/** How the speaker reaches the machine's links: the OS and libpcap unless a test says otherwise. */
export interface LinkAccess {
  readLinks: () => LinkInfo[];
  openLink: typeof openLink;
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

  /** Re-reads interfaces every `LINK_RESCAN_MS`; `onChange` gets the names closed when anything changed. */
  startRescans(onChange: (closed: string[]) => void): void {
    this.timer = setInterval(() => {
      const changed = this.sync(false);
      if (changed) onChange(changed.closed);
    }, LINK_RESCAN_MS);
    this.timer.unref();
  }

  /**
   * Opens the links to answer on and closes those gone or failed; the closed names when anything
   * changed (the caller stops announcing on them and recomputes), undefined when nothing did.
   */
  sync(initial: boolean): { closed: string[] } | undefined {
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
    const plan = planLinkChanges(this.links, use);
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
    try {
      const entry: OpenLink = {
        mac: l.mac,
        macBytes,
        errored: false,
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
