import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BROADCAST_MAC,
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
  type DecodedFrame,
} from '@metallb-ts/l2-proto';
import { nsExec } from '../../src/netns.js';
import { run } from '../../src/run.js';
import { waitFor } from '../../src/wait-for.js';
import {
  Capture,
  ResponderHandle,
  VIP4,
  VIP6,
  addNamespace,
  addVeth,
  ipIn,
  neighbourOf,
  neighbours,
  sweepNamespaces,
  type ResponderEvent,
} from '../../src/wire/wire-net.js';

/*
 * The speaker's data plane against the Linux kernel, in three namespaces of our own:
 *
 *   wire-cli  (client on bridge wbr: 192.0.2.2, 2001:db8:2::2)
 *     wbr ── wc0 ═══ ws0 ─┐
 *        └── wc2 ═══ ws2 ─┤ wire-spk (the responder; no addresses, never the VIP)
 *   wire-cli2 (wd1: 192.0.2.3, 2001:db8:2::3)       │
 *        wd1 ═══════ ws1 ─┘
 *
 * ws0 and ws2 are two ports of the same segment (the failover test moves the VIP between them);
 * ws1 is a second, separate data network of the same node.
 */

const SPK = 'wire-spk';
const CLI = 'wire-cli';
const CLI2 = 'wire-cli2';
const ALL_NS = [SPK, CLI, CLI2];
const MAC = {
  ws0: '02:00:00:00:51:00',
  ws1: '02:00:00:00:51:01',
  ws2: '02:00:00:00:51:02',
  wc0: '02:00:00:00:b0:00',
  wc2: '02:00:00:00:b0:02',
  wbr: '02:00:00:00:c1:00',
  wd1: '02:00:00:00:c2:01',
};
const OUR_MACS = [MAC.ws0, MAC.ws1, MAC.ws2];

jest.setTimeout(30_000);

const orThrow =
  <A>(f: (a: A) => { ok: true; value: Buffer } | { ok: false; error: { message: string } }) =>
  (a: A): Buffer => {
    const r = f(a);
    if (!r.ok) throw new Error(r.error.message);
    return r.value;
  };
const parseMacOrThrow = orThrow(parseMac);
const v4OrThrow = orThrow(ipv4ToBytes);
const v6OrThrow = orThrow(ipv6ToBytes);

let responder: ResponderHandle | undefined;
let captures: Capture[] = [];
let dir = '';

async function buildTopology(): Promise<void> {
  for (const ns of ALL_NS) await addNamespace(ns);
  await ipIn(CLI, ['link', 'add', 'wbr', 'address', MAC.wbr, 'type', 'bridge', 'mcast_snooping', '0']);
  await addVeth({ ns: SPK, name: 'ws0', mac: MAC.ws0 }, { ns: CLI, name: 'wc0', mac: MAC.wc0 });
  await addVeth({ ns: SPK, name: 'ws2', mac: MAC.ws2 }, { ns: CLI, name: 'wc2', mac: MAC.wc2 });
  await addVeth({ ns: SPK, name: 'ws1', mac: MAC.ws1 }, { ns: CLI2, name: 'wd1', mac: MAC.wd1 });
  await ipIn(CLI, ['link', 'set', 'wc0', 'master', 'wbr']);
  await ipIn(CLI, ['link', 'set', 'wc2', 'master', 'wbr']);
  await ipIn(CLI, ['link', 'set', 'wbr', 'up']);
  await ipIn(CLI, ['addr', 'add', '192.0.2.2/24', 'dev', 'wbr']);
  await ipIn(CLI, ['addr', 'add', '2001:db8:2::2/64', 'dev', 'wbr', 'nodad']);
  await ipIn(CLI2, ['addr', 'add', '192.0.2.3/24', 'dev', 'wd1']);
  await ipIn(CLI2, ['addr', 'add', '2001:db8:2::3/64', 'dev', 'wd1', 'nodad']);
}

async function cleanUp(): Promise<void> {
  await responder?.stop().catch(() => undefined);
  for (const c of captures) await c.stop().catch(() => undefined);
  await sweepNamespaces(ALL_NS);
}

/** What the test saw, for failure messages. */
async function seen(): Promise<string> {
  const neigh = [
    `ip neigh (${CLI}/wbr): ${JSON.stringify(await neighbours(CLI, 'wbr'))}`,
    `ip neigh (${CLI2}/wd1): ${JSON.stringify(await neighbours(CLI2, 'wd1'))}`,
  ];
  return `${neigh.join('\n')}\n${responder?.describe() ?? 'no responder'}`;
}

function decoded(e: ResponderEvent): DecodedFrame | undefined {
  const r = decodeFrame(Buffer.from(String(e.frame), 'hex'));
  return r.ok ? r.value : undefined;
}

/** Frames the responder logged after index `from` on `link` that satisfy `pick`. */
function framesSince(
  from: number,
  link: string,
  pick: (d: DecodedFrame, e: ResponderEvent) => boolean,
): { d: DecodedFrame; e: ResponderEvent }[] {
  return (responder?.events.slice(from) ?? [])
    .filter((e) => e.event === 'frame' && e.link === link)
    .map((e) => ({ e, d: decoded(e) }))
    .filter((x): x is { d: DecodedFrame; e: ResponderEvent } => x.d !== undefined && pick(x.d, x.e));
}

/** Like framesSince, but waits (bounded) for at least `min` matches: log lines arrive through a pipe. */
async function awaitFrames(
  from: number,
  link: string,
  pick: (d: DecodedFrame, e: ResponderEvent) => boolean,
  min = 1,
): Promise<{ d: DecodedFrame; e: ResponderEvent }[]> {
  return waitFor(
    `${min} matching frame(s) on ${link} in the responder log`,
    () => {
      const got = framesSince(from, link, pick);
      return got.length >= min ? { done: true, value: got } : { done: false, observed: got.length };
    },
    { timeoutMs: 3000, intervalMs: 20 },
  ).catch(() => framesSince(from, link, pick));
}

async function expectWithContext(check: () => void | Promise<void>): Promise<void> {
  try {
    await check();
  } catch (e) {
    (e as Error).message += `\n--- what we saw ---\n${await seen()}`;
    throw e;
  }
}

/** Waits until `ns`'s neighbour entry for `ip` on `dev` has `mac` (and a state in `states`). */
async function waitNeighbour(
  ns: string,
  dev: string,
  ip: string,
  mac: string,
  states: string[],
  timeoutMs = 6000,
): Promise<void> {
  try {
    await waitFor(
      `${ns} neighbour ${ip} on ${dev} = ${mac} (${states.join('|')})`,
      async () => {
        const n = await neighbourOf(ns, dev, ip);
        const ok = n?.lladdr === mac && (n.state ?? []).some((s) => states.includes(s));
        return ok ? { done: true, value: undefined } : { done: false, observed: n ?? 'no entry' };
      },
      { timeoutMs, intervalMs: 50 },
    );
  } catch (e) {
    throw new Error(`${(e as Error).message}\n--- what we saw ---\n${await seen()}`);
  }
}

beforeAll(async () => {
  await sweepNamespaces(ALL_NS);
  try {
    dir = mkdtempSync(join(tmpdir(), 'wire-'));
    await buildTopology();
    // Capture everything before the responder sends its first announcement.
    captures = [
      await Capture.start(CLI, 'wbr', join(dir, 'cli.pcap')),
      await Capture.start(CLI2, 'wd1', join(dir, 'cli2.pcap')),
    ];
    responder = await ResponderHandle.start(SPK, {
      links: ['ws0', 'ws1', 'ws2'],
      announce: [
        { ip: VIP4, link: 'ws0' },
        { ip: VIP6, link: 'ws0' },
      ],
      burstMs: [0, 300, 1000],
      refreshMs: 0,
    });
  } catch (e) {
    await cleanUp();
    throw e;
  }
}, 60_000);

afterAll(async () => {
  await cleanUp();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 30_000);

describe('requests made by Linux tools and the kernel decode, and are answered', () => {
  it('arping (ARP request on a bridge) gets our MAC, and the request decodes field by field', async () => {
    const from = responder!.events.length;
    const r = await nsExec(CLI, ['arping', '-i', 'wbr', '-c', '1', '-w', '3', '-r', VIP4]);
    const reqs = await awaitFrames(from, 'ws0', (d) => d.kind === 'arp' && d.arp.operation === 'request');
    await expectWithContext(() => {
      expect(r.stdout.trim().toLowerCase()).toBe(MAC.ws0);
      expect(reqs.length).toBeGreaterThanOrEqual(1);
      const { d, e } = reqs[0]!;
      if (d.kind !== 'arp') throw new Error('unreachable');
      expect(formatMac(d.ethernet.destination)).toBe('ff:ff:ff:ff:ff:ff');
      expect(formatMac(d.ethernet.source)).toBe(MAC.wbr);
      expect(formatMac(d.arp.senderMac)).toBe(MAC.wbr);
      expect(bytesToIpv4(d.arp.senderIp)).toBe('192.0.2.2');
      expect(bytesToIpv4(d.arp.targetIp)).toBe(VIP4);
      expect(e.verdict).toBe('reply');
    });
  });

  it('ndisc6 (Neighbor Solicitation) gets our MAC in a solicited NA, and the NS decodes', async () => {
    const from = responder!.events.length;
    const r = await nsExec(CLI, ['ndisc6', '-1', '-q', '-n', '-r', '3', '-w', '1000', VIP6, 'wbr']);
    const reqs = await awaitFrames(from, 'ws0', (d) => d.kind === 'ndp-ns');
    await expectWithContext(() => {
      expect(`${r.stdout}${r.stderr}`.trim().toLowerCase()).toBe(MAC.ws0);
      expect(reqs.length).toBeGreaterThanOrEqual(1);
      const { d, e } = reqs[0]!;
      if (d.kind !== 'ndp-ns') throw new Error('unreachable');
      expect(formatMac(d.ethernet.destination)).toBe('33:33:ff:00:01:00');
      expect(bytesToIpv6(d.ipv6.destination)).toBe('ff02::1:ff00:100');
      // ndisc6 asks from the interface's link-local address (EUI-64 of the bridge MAC).
      expect(bytesToIpv6(d.ipv6.source)).toBe('fe80::ff:fe00:c100');
      expect(d.ipv6.hopLimit).toBe(255);
      expect(bytesToIpv6(d.ns.target)).toBe(VIP6);
      const slla = findLinkLayerAddress(d.ns.options, 'source-link-layer-address');
      expect(slla && formatMac(slla)).toBe(MAC.wbr);
      expect(e.verdict).toBe('reply');
    });
  });
});

describe("our replies become the kernel's neighbour entries", () => {
  it('IPv4: ping resolves the VIP through the kernel ARP; the entry is REACHABLE with our MAC', async () => {
    await ipIn(CLI, ['neigh', 'flush', 'dev', 'wbr']);
    const from = responder!.events.length;
    // No host owns the VIP here, so the echo goes unanswered: only the resolution matters.
    await nsExec(CLI, ['ping', '-c', '1', '-W', '1', VIP4]);
    await waitNeighbour(CLI, 'wbr', VIP4, MAC.ws0, ['REACHABLE']);
    const reqs = await awaitFrames(
      from,
      'ws0',
      (d) => d.kind === 'arp' && d.arp.operation === 'request' && bytesToIpv4(d.arp.targetIp) === VIP4,
    );
    await expectWithContext(() => {
      expect(reqs.length).toBeGreaterThanOrEqual(1);
      const d = reqs[0]!.d;
      if (d.kind !== 'arp') throw new Error('unreachable');
      // The kernel's own request: broadcast, from the bridge, asking from the client address.
      expect(formatMac(d.arp.senderMac)).toBe(MAC.wbr);
      expect(bytesToIpv4(d.arp.senderIp)).toBe('192.0.2.2');
      expect(reqs[0]!.e.verdict).toBe('reply');
    });
  });

  it('IPv6: ping -6 resolves the VIP through the kernel NDP; the entry is REACHABLE with our MAC', async () => {
    // The kernel of the speaker's namespace must not be the one answering: it has no such address.
    const spkAddrs = await ipIn(SPK, ['-j', 'addr', 'show']);
    expect(spkAddrs).not.toContain(VIP6);
    expect(spkAddrs).not.toContain(VIP4);
    const from = responder!.events.length;
    await nsExec(CLI, ['ping', '-6', '-c', '1', '-W', '1', VIP6]);
    await waitNeighbour(CLI, 'wbr', VIP6, MAC.ws0, ['REACHABLE']);
    const reqs = await awaitFrames(
      from,
      'ws0',
      (d) => d.kind === 'ndp-ns' && bytesToIpv6(d.ns.target) === VIP6,
    );
    await expectWithContext(() => {
      expect(reqs.length).toBeGreaterThanOrEqual(1);
      const d = reqs[0]!.d;
      if (d.kind !== 'ndp-ns') throw new Error('unreachable');
      expect(bytesToIpv6(d.ipv6.source)).toBe('2001:db8:2::2');
      const slla = findLinkLayerAddress(d.ns.options, 'source-link-layer-address');
      expect(slla && formatMac(slla)).toBe(MAC.wbr);
      expect(reqs[0]!.e.verdict).toBe('reply');
    });
  });
});

describe('gratuitous announcements move existing entries (failover)', () => {
  it('announcing on ws2 after withdrawing from ws0 moves both entries to the ws2 MAC', async () => {
    // Entries exist for both VIPs with the ws0 MAC (from the tests above, or made now).
    if ((await neighbourOf(CLI, 'wbr', VIP4))?.lladdr !== MAC.ws0)
      await nsExec(CLI, ['ping', '-c', '1', '-W', '1', VIP4]);
    if ((await neighbourOf(CLI, 'wbr', VIP6))?.lladdr !== MAC.ws0)
      await nsExec(CLI, ['ping', '-6', '-c', '1', '-W', '1', VIP6]);
    await waitNeighbour(CLI, 'wbr', VIP4, MAC.ws0, ['REACHABLE', 'STALE', 'DELAY', 'PROBE']);
    await waitNeighbour(CLI, 'wbr', VIP6, MAC.ws0, ['REACHABLE', 'STALE', 'DELAY', 'PROBE']);
    for (const ip of [VIP4, VIP6]) await responder!.command({ op: 'withdraw', ip, link: 'ws0' });
    for (const ip of [VIP4, VIP6]) await responder!.command({ op: 'announce', ip, link: 'ws2' });
    // The burst (0, 300, 1000 ms) outlasts the kernel's 1 s ARP locktime, so no sleep is needed.
    await waitNeighbour(CLI, 'wbr', VIP4, MAC.ws2, ['REACHABLE', 'STALE', 'DELAY', 'PROBE']);
    await waitNeighbour(CLI, 'wbr', VIP6, MAC.ws2, ['REACHABLE', 'STALE', 'DELAY', 'PROBE']);
    // And the new holder answers the kernel from now on.
    const r = await nsExec(CLI, ['arping', '-i', 'wbr', '-c', '1', '-w', '3', '-r', VIP4]);
    expect(r.stdout.trim().toLowerCase()).toBe(MAC.ws2);
  });
});

describe('a node with two data networks answers only where the request came in', () => {
  it('VIP announced on ws0 only: the client behind ws1 gets no answer; the one behind ws0 does', async () => {
    for (const ip of [VIP4, VIP6]) {
      await responder!.command({ op: 'withdraw', ip, link: 'ws2' });
      await responder!.command({ op: 'announce', ip, link: 'ws0' });
    }
    const from = responder!.events.length;
    const other = await nsExec(CLI2, ['arping', '-i', 'wd1', '-c', '2', '-w', '2', '-r', VIP4]);
    const other6 = await nsExec(CLI2, ['ndisc6', '-1', '-q', '-n', '-r', '2', '-w', '500', VIP6, 'wd1']);
    const here = await nsExec(CLI, ['arping', '-i', 'wbr', '-c', '1', '-w', '3', '-r', VIP4]);
    await awaitFrames(from, 'ws1', (d) => d.kind === 'arp' || d.kind === 'ndp-ns', 2);
    await expectWithContext(() => {
      expect(other.stdout.trim()).toBe('');
      expect(other.code).not.toBe(0);
      expect(other6.stdout.trim()).toBe('');
      expect(here.stdout.trim().toLowerCase()).toBe(MAC.ws0);
      const onWs1 = framesSince(from, 'ws1', (d) => d.kind === 'arp' || d.kind === 'ndp-ns');
      expect(onWs1.length).toBeGreaterThanOrEqual(2);
      expect(onWs1.every((x) => x.e.verdict === 'not-ours')).toBe(true);
    });
  });

  it('VIP announced on both: each side gets the MAC of its own link, from its own link', async () => {
    for (const ip of [VIP4, VIP6]) await responder!.command({ op: 'announce', ip, link: 'ws1' });
    const from = responder!.events.length;
    const a = await nsExec(CLI, ['arping', '-i', 'wbr', '-c', '1', '-w', '3', '-r', VIP4]);
    const b = await nsExec(CLI2, ['arping', '-i', 'wd1', '-c', '1', '-w', '3', '-r', VIP4]);
    const a6 = await nsExec(CLI, ['ndisc6', '-1', '-q', '-n', '-r', '3', '-w', '1000', VIP6, 'wbr']);
    const b6 = await nsExec(CLI2, ['ndisc6', '-1', '-q', '-n', '-r', '3', '-w', '1000', VIP6, 'wd1']);
    await awaitFrames(from, 'ws0', (_d, e) => e.verdict === 'reply', 2);
    await awaitFrames(from, 'ws1', (_d, e) => e.verdict === 'reply', 2);
    await expectWithContext(() => {
      expect(a.stdout.trim().toLowerCase()).toBe(MAC.ws0);
      expect(b.stdout.trim().toLowerCase()).toBe(MAC.ws1);
      expect(a6.stdout.trim().toLowerCase()).toBe(MAC.ws0);
      expect(b6.stdout.trim().toLowerCase()).toBe(MAC.ws1);
      // Every reply was built for, and injected on, the link its request came in on.
      const replies = (responder!.events.slice(from) ?? []).filter(
        (e) => e.event === 'frame' && e.verdict === 'reply',
      );
      expect(replies.length).toBeGreaterThanOrEqual(4);
      for (const e of replies) {
        const reply = decodeFrame(Buffer.from(String(e.reply), 'hex'));
        expect(reply.ok).toBe(true);
        if (reply.ok)
          expect(formatMac(reply.value.ethernet.source)).toBe(e.link === 'ws0' ? MAC.ws0 : MAC.ws1);
      }
      expect(new Set(replies.map((e) => e.link))).toEqual(new Set(['ws0', 'ws1']));
    });
  });

  it('Duplicate Address Detection by the kernel for the VIP is answered: the client marks it dadfailed', async () => {
    const from = responder!.events.length;
    // The namespaces skip DAD for their own addresses; this one link must probe.
    await nsExec(CLI2, ['sysctl', '-q', '-w', 'net.ipv6.conf.wd1.accept_dad=1']);
    await ipIn(CLI2, ['addr', 'add', `${VIP6}/64`, 'dev', 'wd1']);
    try {
      await waitFor(
        'the kernel in wire-cli2 to mark the VIP dadfailed',
        async () => {
          const out = await ipIn(CLI2, ['-6', 'addr', 'show', 'dev', 'wd1']);
          return /2001:db8:2::100\/64.*dadfailed/.test(out)
            ? { done: true, value: undefined }
            : { done: false, observed: out };
        },
        { timeoutMs: 8000, intervalMs: 100 },
      );
      const probes = await awaitFrames(
        from,
        'ws1',
        (d) => d.kind === 'ndp-ns' && d.ipv6.source.every((b) => b === 0),
      );
      await expectWithContext(() => {
        expect(probes.length).toBeGreaterThanOrEqual(1);
        expect(probes[0]!.e.verdict).toBe('reply');
      });
    } finally {
      await ipIn(CLI2, ['addr', 'del', `${VIP6}/64`, 'dev', 'wd1']).catch(() => undefined);
    }
  });
});

describe('802.1Q: tagged requests on an untagged link are answered with the same tag', () => {
  // This machine's kernel has neither VLAN devices (8021q) nor bridge VLAN filtering, so the kernel
  // cannot be the tagged peer here: the requests are built with l2-proto and sent from wire-cli2
  // through a raw socket; the replies cross the real veth and libpcap both ways, and the tshark
  // test below dissects them from the capture on wd1.
  const VLAN = { pcp: 0, dei: false, id: 42 };
  const VLAN_VIP4 = '198.51.100.100';
  const VLAN_VIP6 = '2001:db8:42::100';
  const sendRaw = (frame: Buffer) =>
    nsExec(CLI2, [
      'python3',
      '-c',
      'import socket,sys; s=socket.socket(socket.AF_PACKET, socket.SOCK_RAW); s.bind((sys.argv[1], 0)); s.send(bytes.fromhex(sys.argv[2]))',
      'wd1',
      frame.toString('hex'),
    ]);

  it('ARP and NS tagged 42 get replies tagged 42, from the link MAC, to the asker', async () => {
    for (const ip of [VLAN_VIP4, VLAN_VIP6]) await responder!.command({ op: 'announce', ip, link: 'ws1' });
    try {
      const asker = parseMacOrThrow(MAC.wd1);
      const from = responder!.events.length;
      await sendRaw(
        encodeArpFrame({
          destination: BROADCAST_MAC,
          source: asker,
          vlan: VLAN,
          arp: {
            operation: 'request',
            senderMac: asker,
            senderIp: v4OrThrow('198.51.100.3'),
            targetMac: Buffer.alloc(6),
            targetIp: v4OrThrow(VLAN_VIP4),
          },
        }),
      );
      await sendRaw(
        neighborSolicitation({
          mac: asker,
          source: v6OrThrow('2001:db8:42::3'),
          target: v6OrThrow(VLAN_VIP6),
          vlan: VLAN,
        }),
      );
      const replied = await awaitFrames(from, 'ws1', (_d, e) => e.verdict === 'reply', 2);
      await expectWithContext(() => {
        expect(replied.map((x) => x.d.kind).sort()).toEqual(['arp', 'ndp-ns']);
        for (const { d, e } of replied) {
          expect(d.ethernet.vlan?.id).toBe(42);
          const reply = decodeFrame(Buffer.from(String(e.reply), 'hex'));
          expect(reply.ok).toBe(true);
          if (!reply.ok) continue;
          expect(reply.value.ethernet.vlan).toEqual(VLAN);
          expect(formatMac(reply.value.ethernet.source)).toBe(MAC.ws1);
          expect(formatMac(reply.value.ethernet.destination)).toBe(MAC.wd1);
        }
      });
    } finally {
      for (const ip of [VLAN_VIP4, VLAN_VIP6])
        await responder!.command({ op: 'withdraw', ip, link: 'ws1' }).catch(() => undefined);
    }
  });
});

interface TsharkFrame {
  no: string;
  src: string;
  protocols: string;
  info: string;
  severity: string[];
  malformed: boolean;
  icmpv6Checksum: string;
  arpOpcode: string;
  icmpv6Type: string;
  naFlags: string;
}

async function dissect(file: string): Promise<{ frames: TsharkFrame[]; raw: string }> {
  const fields = [
    'frame.number',
    'eth.src',
    'frame.protocols',
    '_ws.col.Info',
    '_ws.expert.severity',
    '_ws.malformed',
    'icmpv6.checksum.status',
    'arp.opcode',
    'icmpv6.type',
    'icmpv6.nd.na.flag.s',
  ];
  const r = await run(
    [
      'tshark',
      '-r',
      file,
      '-T',
      'fields',
      '-E',
      'separator=\t',
      '-E',
      'occurrence=a',
      '-E',
      'aggregator=,',
      ...fields.flatMap((f) => ['-e', f]),
    ],
    { timeoutMs: 60_000 },
  );
  if (r.code !== 0) throw new Error(`tshark failed on ${file}: ${r.stderr}`);
  const frames = r.stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const [
        no = '',
        src = '',
        protocols = '',
        info = '',
        severity = '',
        malformed = '',
        icmpv6Checksum = '',
        arpOpcode = '',
        icmpv6Type = '',
        naFlags = '',
      ] = l.split('\t');
      return {
        no,
        src,
        protocols,
        info,
        severity: severity ? severity.split(',') : [],
        malformed: malformed !== '',
        icmpv6Checksum,
        arpOpcode,
        icmpv6Type,
        naFlags,
      };
    });
  return { frames, raw: r.stdout };
}

// Expert severities (epan/proto.h): chat 0x200000, note 0x400000, warn 0x600000, error 0x800000.
const PI_ERROR = 0x800000;

describe('everything we sent is well-formed for Wireshark', () => {
  it('tshark finds no malformed frame, no expert error and no bad ICMPv6 checksum, and every message kind was seen', async () => {
    for (const c of captures) await c.stop();
    const ours: TsharkFrame[] = [];
    let raw = '';
    for (const c of captures) {
      const d = await dissect(c.file);
      raw += `${c.file}:\n${d.raw}`;
      ours.push(...d.frames.filter((f) => OUR_MACS.includes(f.src)));
    }
    const show = (fs: TsharkFrame[]) => fs.map((f) => JSON.stringify(f)).join('\n');
    const bad = ours.filter(
      (f) =>
        f.malformed ||
        f.severity.some((s) => Number(s) >= PI_ERROR) ||
        (f.icmpv6Type !== '' && f.icmpv6Checksum === '0'),
    );
    try {
      expect(bad).toEqual([]);
      // icmpv6.checksum.status: 1 = good (tshark 4.0 verifies ICMPv6 checksums by default).
      const icmp = ours.filter((f) => f.icmpv6Type !== '');
      expect(icmp.length).toBeGreaterThan(0);
      expect(icmp.every((f) => f.icmpv6Checksum === '1')).toBe(true);
      const kinds = new Set(
        ours.map((f) =>
          f.arpOpcode === '1'
            ? 'arp-request(gratuitous)'
            : f.arpOpcode === '2'
              ? 'arp-reply'
              : f.icmpv6Type === '136'
                ? f.naFlags === '1'
                  ? 'na-solicited'
                  : 'na-unsolicited'
                : f.icmpv6Type === '143'
                  ? 'mldv2-report'
                  : `other:${f.protocols}`,
        ),
      );
      expect([...kinds].sort()).toEqual([
        'arp-reply',
        'arp-request(gratuitous)',
        'mldv2-report',
        'na-solicited',
        'na-unsolicited',
      ]);
      // The 802.1Q test's replies: an ARP reply and a solicited NA, both inside a VLAN header.
      const tagged = ours.filter((f) => f.protocols.includes(':vlan:'));
      expect(tagged.filter((f) => f.arpOpcode === '2')).toHaveLength(1);
      expect(tagged.filter((f) => f.icmpv6Type === '136')).toHaveLength(1);
    } catch (e) {
      (e as Error).message +=
        `\n--- our frames as tshark saw them ---\n${show(ours)}\n--- all frames ---\n${raw.slice(-6000)}`;
      throw e;
    }
  });
});
