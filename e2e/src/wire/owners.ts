// Who answers for each address, in one round: one ARP request (IPv4) or Neighbor Solicitation
// (IPv6) per address, all sent at once from the client, then every answer addressed to the client
// within the listen window counted. One process per round (e2e/src/wire/ask.py does the raw
// socket I/O) instead of one arping/ndisc6 per address: the soak probes every announced address
// after every step, and forking two processes per address was most of a step's time.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  BROADCAST_MAC,
  ZERO_MAC,
  bytesToIpv4,
  bytesToIpv6,
  decodeFrame,
  encodeArpFrame,
  findLinkLayerAddress,
  formatMac,
  ipv4ToBytes,
  ipv6ToBytes,
  neighborSolicitation,
  parseMac,
} from '@metallb-ts/l2-proto';

const ASK_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'ask.py');
/**
 * Debian's interpreter (scripts/setup.sh installs it): a `python3` on PATH may be a version
 * manager's shim, which costs 200 ms a start, and a round runs after every soak step.
 */
const PYTHON = '/usr/bin/python3';

/** The asking side: its MAC and the addresses it asks from, on one link. */
export interface Asker {
  readonly mac: string;
  readonly ipv4: string;
  readonly ipv6: string;
}

function must<T>(r: { ok: true; value: T } | { ok: false; error: { message: string } }, what: string): T {
  if (!r.ok) throw new Error(`${what}: ${r.error.message}`);
  return r.value;
}

/** One request frame per address: an ARP request for IPv4, a Neighbor Solicitation for IPv6. */
export function requestFrames(asker: Asker, ips: readonly string[]): Buffer[] {
  const mac = must(parseMac(asker.mac), `asker MAC ${asker.mac}`);
  return ips.map((ip) =>
    ip.includes(':')
      ? neighborSolicitation({
          mac,
          source: must(ipv6ToBytes(asker.ipv6), `asker address ${asker.ipv6}`),
          target: must(ipv6ToBytes(ip), `address ${ip}`),
        })
      : encodeArpFrame({
          destination: BROADCAST_MAC,
          source: mac,
          arp: {
            operation: 'request',
            senderMac: mac,
            senderIp: must(ipv4ToBytes(asker.ipv4), `asker address ${asker.ipv4}`),
            targetMac: ZERO_MAC,
            targetIp: must(ipv4ToBytes(ip), `address ${ip}`),
          },
        }),
  );
}

/**
 * The MACs that answered for each of `ips`, from captured frames: ARP replies and Neighbor
 * Advertisements sent to the asker (a gratuitous announcement to everyone is no answer). The MAC
 * is the one the answer claims (ARP sender, NA target link-layer address, else the frame's
 * source), as arping and ndisc6 report it. Frames that do not decode are left out.
 */
export function answersFrom(
  asker: Asker,
  ips: readonly string[],
  frames: readonly Buffer[],
): Map<string, string[]> {
  const me = asker.mac.toLowerCase();
  // Keyed by the decoder's spelling of each address, so `2001:db8::0:1` finds `2001:db8::1`.
  const spelled = (ip: string): string =>
    ip.includes(':') ? bytesToIpv6(must(ipv6ToBytes(ip), `address ${ip}`)) : ip;
  const byKey = new Map(ips.map((ip) => [spelled(ip), ip]));
  const found = new Map<string, Set<string>>(ips.map((ip) => [ip, new Set<string>()]));
  const add = (key: string, mac: Buffer) => {
    const ip = byKey.get(key);
    if (ip !== undefined) found.get(ip)!.add(formatMac(mac));
  };
  for (const buf of frames) {
    const d = decodeFrame(buf);
    if (!d.ok || formatMac(d.value.ethernet.destination) !== me) continue;
    const f = d.value;
    if (f.kind === 'arp' && f.arp.operation === 'reply') {
      add(bytesToIpv4(f.arp.senderIp), f.arp.senderMac);
    } else if (f.kind === 'ndp-na' && f.na.solicited) {
      const mac = findLinkLayerAddress(f.na.options, 'target-link-layer-address') ?? f.ethernet.source;
      add(bytesToIpv6(f.na.target), mac);
    }
  }
  return new Map([...found].map(([ip, macs]) => [ip, [...macs].sort()]));
}

/** The command that runs one round on `iface`: the caller runs it where the asker lives. */
export function askCommand(iface: string, frames: readonly Buffer[], listenMs: number): string[] {
  const cfg = { iface, listen_ms: listenMs, frames: frames.map((f) => f.toString('hex')) };
  return [PYTHON, ASK_SCRIPT, JSON.stringify(cfg)];
}

/** Reads ask.py's output line. */
export function parseAskOutput(stdout: string): { sent: number; frames: Buffer[] } {
  const line = stdout.trim().split('\n').at(-1) ?? '';
  let parsed: { sent?: unknown; frames?: unknown };
  try {
    parsed = JSON.parse(line) as typeof parsed;
  } catch {
    throw new Error(`ask.py printed no result line: ${JSON.stringify(stdout.slice(0, 300))}`);
  }
  if (typeof parsed.sent !== 'number' || !Array.isArray(parsed.frames))
    throw new Error(`ask.py printed an unexpected line: ${line.slice(0, 300)}`);
  return { sent: parsed.sent, frames: parsed.frames.map((h) => Buffer.from(String(h), 'hex')) };
}
