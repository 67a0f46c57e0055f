import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { parseMac, ZERO_MAC } from '@metallb-ts/l2-proto';

/** What the speaker needs to know about a link to decide whether to answer on it. */
export interface LinkInfo {
  name: string;
  mac: string;
  up: boolean;
  noArp: boolean;
  /** Enslaved to a bond or bridge: the master answers, never the slave. */
  enslaved: boolean;
  loopback: boolean;
}

// Kernel interface flags (include/uapi/linux/if.h).
const IFF_UP = 0x1;
const IFF_LOOPBACK = 0x8;
const IFF_NOARP = 0x80;

/** Reads links from sysfs; pure apart from the reads so the selection rule can be tested alone. */
export function readLinks(sysClassNet = '/sys/class/net'): LinkInfo[] {
  return readdirSync(sysClassNet).map((name) => {
    const read = (f: string) => {
      try {
        return readFileSync(`${sysClassNet}/${name}/${f}`, 'utf8').trim();
      } catch {
        return '';
      }
    };
    const flags = parseInt(read('flags') || '0', 16);
    return {
      name,
      mac: read('address'),
      up: (flags & IFF_UP) !== 0 && read('operstate') !== 'down',
      noArp: (flags & IFF_NOARP) !== 0,
      enslaved: existsSync(`${sysClassNet}/${name}/master`),
      loopback: (flags & IFF_LOOPBACK) !== 0,
    };
  });
}

/** The links we may answer on, and why each other link was skipped (for the log). */
export function selectLinks(
  links: LinkInfo[],
  /** Interface names never answered on (the speaker's METALLB_INTERFACE_EXCLUDE setting). */
  exclude: readonly RegExp[],
): { use: LinkInfo[]; skipped: { name: string; why: string }[] } {
  const use: LinkInfo[] = [];
  const skipped: { name: string; why: string }[] = [];
  for (const l of links) {
    const pattern = exclude.find((re) => re.test(l.name));
    const why = pattern
      ? `matches exclusion ${pattern.source}`
      : l.loopback
        ? 'loopback'
        : !l.up
          ? 'down'
          : l.noArp
            ? 'NOARP'
            : l.enslaved
              ? 'enslaved to a bond or bridge'
              : !hasEthernetAddress(l.mac)
                ? 'no Ethernet address'
                : undefined;
    if (why) skipped.push({ name: l.name, why });
    else use.push(l);
  }
  return { use, skipped };
}

function hasEthernetAddress(mac: string): boolean {
  const parsed = parseMac(mac);
  return parsed.ok && !parsed.value.equals(ZERO_MAC);
}

/** What the speaker has open on one link: its MAC as read, and whether capture reported an error. */
export interface OpenLinkState {
  mac: string;
  errored: boolean;
}

/**
 * Interfaces come and go (a bond is built after boot, a NIC is renamed or fails): from the links
 * to use now and those open, which to close (gone, errored, stale, or a new MAC) and which to (re)open.
 */
export function planLinkChanges(
  open: ReadonlyMap<string, OpenLinkState>,
  use: LinkInfo[],
  /** Open links whose capture must be reopened even though nothing above changed (`linkChanged`). */
  stale: ReadonlySet<string> = new Set(),
): { close: string[]; open: LinkInfo[] } {
  const wanted = new Map(use.map((l) => [l.name, l]));
  const close: string[] = [];
  for (const [name, state] of open) {
    const now = wanted.get(name);
    if (!now || state.errored || stale.has(name) || now.mac !== state.mac) close.push(name);
  }
  const closing = new Set(close);
  return { close, open: use.filter((l) => !open.has(l.name) || closing.has(l.name)) };
}

/**
 * What identifies one life of a link, read when its capture is opened and compared after: the
 * kernel's ifindex (a new one means the link was deleted and re-created), its carrier change
 * counter (bumped by every carrier loss and return, however short) and whether it is up now.
 */
export interface LinkStamp {
  ifindex: number;
  carrierChanges: number;
  up: boolean;
}

/** Reads `name`'s stamp from sysfs: three small files, cheap enough to read every second. */
export function readLinkStamp(name: string, sysClassNet = '/sys/class/net'): LinkStamp | undefined {
  const read = (f: string) => readFileSync(`${sysClassNet}/${name}/${f}`, 'utf8').trim();
  try {
    return {
      ifindex: Number(read('ifindex')),
      carrierChanges: Number(read('carrier_changes')),
      up: read('operstate') !== 'down',
    };
  } catch {
    // Gone (or never there): the caller's full rescan decides what that means.
    return undefined;
  }
}

/**
 * Whether a capture opened at `atOpen` must be reopened now, and why. A link that went down and
 * came back keeps its name and MAC, but libpcap's session on it stops delivering once it saw the
 * interface go down; so any carrier change or new ifindex since open, seen while the link is up
 * again, means reopen. While it is still down we wait (reopening then would fail or go deaf again);
 * a link that vanished is reported so the caller rescans and drops it.
 */
export function linkChanged(atOpen: LinkStamp, now: LinkStamp | undefined): string | undefined {
  if (!now) return 'interface vanished';
  if (now.ifindex !== atOpen.ifindex) return `ifindex changed from ${atOpen.ifindex} to ${now.ifindex}`;
  if (!now.up) return undefined;
  if (now.carrierChanges !== atOpen.carrierChanges)
    return `carrier changed ${now.carrierChanges - atOpen.carrierChanges} time(s) since capture opened`;
  if (!atOpen.up) return 'came up after capture opened';
  return undefined;
}
