/**
 * Responder throughput and latency on a real link, against the Linux kernel as the reference.
 *
 * Two namespaces of our own (rbench-spk, rbench-cli) joined by a veth pair. A paced sender in the
 * client namespace (Python, AF_PACKET: e2e/src/wire/loadgen.py) sends ARP requests, then Neighbor
 * Solicitations, at rising rates, each request carrying its sequence number in the asker MAC. The
 * same load goes first to the kernel of rbench-spk (asking for an address it owns), then to our
 * responder (the speaker's openLink + respond, in its own process, asking for a VIP nobody owns).
 * tcpdump in the client namespace records requests and replies with kernel timestamps; each reply
 * is paired with its request by sequence number, so latency is request-on-the-wire to
 * reply-on-the-wire, nothing of the sender's own timing.
 *
 * The responder runs under the speaker image's Node flags (`nodeFlags` in packages/ship), so the
 * table is what ships; RESPONDER_NODE_FLAGS (space-separated, '' for none) measures others.
 *
 * Run as root from the repo root: node --expose-gc --import tsx e2e/bench/responder.bench.ts
 * (pnpm bench responder). Prints one table.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  BROADCAST_MAC,
  ZERO_MAC,
  encodeArpFrame,
  ipv4ToBytes,
  ipv6ToBytes,
  neighborSolicitation,
  solicitedNodeMulticast,
} from '@metallb-ts/l2-proto';
import { binary } from '../../packages/ship/src/binaries.js';
import {
  Capture,
  ResponderHandle,
  VIP4,
  VIP6,
  addNamespace,
  addVeth,
  ipIn,
  sweepNamespaces,
} from '../src/wire/wire-net.js';
import { must } from '../src/wire/owners.js';

const SPK = 'rbench-spk';
const NODE_FLAGS: readonly string[] =
  process.env.RESPONDER_NODE_FLAGS === undefined
    ? binary('speaker').nodeFlags
    : process.env.RESPONDER_NODE_FLAGS.split(' ').filter((f) => f !== '');
const CLI = 'rbench-cli';
const LOADGEN = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'wire', 'loadgen.py');
const RATES = [1000, 5000, 10_000, 20_000, 0]; // 0: as fast as the sender can
const PACED_SECONDS = 3;
const FLOOD_SECONDS = 2;
const KERNEL_V4 = '192.0.2.1';
const KERNEL_V6 = '2001:db8:2::1';
const CLIENT_V4 = '192.0.2.2';
const CLIENT_V6 = '2001:db8:2::2';
/** Stands for the asker MAC in the templates; the sender writes 02:ee:<seq> over it. */
const PLACEHOLDER = Buffer.from([0x02, 0xee, 0xfe, 0xed, 0xfa, 0xce]);

type Proto = 'ARP' | 'NS';
type Target = 'kernel' | 'responder';

interface Row {
  target: Target;
  proto: Proto;
  offered: number;
  sentPerS: number;
  repliesPerS: number;
  answered: number;
  p50: number;
  p99: number;
  max: number;
  captureDrops: number;
  requestsSeen: number;
  sent: number;
}

function offsetsOf(frame: Buffer, needle: Buffer): number[] {
  const out: number[] = [];
  for (let i = frame.indexOf(needle); i !== -1; i = frame.indexOf(needle, i + 1)) out.push(i);
  return out;
}

function onesSum(b: Buffer): number {
  let s = 0;
  for (let i = 0; i + 1 < b.length; i += 2) s += b.readUInt16BE(i);
  if (b.length % 2) s += (b[b.length - 1] ?? 0) << 8;
  return s;
}

/** The sender's configuration for one protocol towards one address. */
function loadFor(proto: Proto, target: string): Record<string, unknown> {
  if (proto === 'ARP') {
    const frame = encodeArpFrame({
      destination: BROADCAST_MAC,
      source: PLACEHOLDER,
      arp: {
        operation: 'request',
        senderMac: PLACEHOLDER,
        senderIp: must(ipv4ToBytes(CLIENT_V4), 'client address'),
        targetMac: ZERO_MAC,
        targetIp: must(ipv4ToBytes(target), `target ${target}`),
      },
    });
    return {
      template: frame.toString('hex'),
      mac_offsets: offsetsOf(frame, PLACEHOLDER),
      checksum: null,
      pseudo_sum: 0,
    };
  }
  const targetIp = must(ipv6ToBytes(target), `target ${target}`);
  const source = must(ipv6ToBytes(CLIENT_V6), 'client address');
  const frame = neighborSolicitation({ mac: PLACEHOLDER, source, target: targetIp });
  const icmpStart = 14 + 40;
  const icmpLength = frame.length - icmpStart;
  const pseudo = Buffer.concat([
    source,
    solicitedNodeMulticast(targetIp),
    Buffer.from([0, 0, icmpLength >> 8, icmpLength & 0xff, 0, 0, 0, 58]),
  ]);
  return {
    template: frame.toString('hex'),
    mac_offsets: offsetsOf(frame, PLACEHOLDER),
    checksum: { offset: icmpStart + 2, start: icmpStart, end: frame.length },
    pseudo_sum: onesSum(pseudo),
  };
}

interface Analysis {
  replies: number;
  /** Requests the capture saw leave: fewer than sent means the capture, not the target, lost some. */
  requestsSeen: number;
  latenciesMs: number[];
  firstRequestNs: number;
  lastReplyNs: number;
}

/** Pairs requests (asker MAC as source) with replies (asker MAC as destination) in a nanosecond pcap. */
function analyse(file: string, firstSeq: number, count: number, proto: Proto): Analysis {
  const data = readFileSync(file);
  if (data.length < 24 || data.readUInt32LE(0) !== 0xa1b23c4d)
    throw new Error(`${file}: not a nanosecond pcap`);
  const sentAt = new Float64Array(count).fill(NaN);
  const answered = new Uint8Array(count);
  const latenciesMs: number[] = [];
  let firstRequestNs = Infinity;
  let lastReplyNs = 0;
  let t0Sec = -1;
  for (let off = 24; off + 16 <= data.length;) {
    const sec = data.readUInt32LE(off);
    const nsec = data.readUInt32LE(off + 4);
    const incl = data.readUInt32LE(off + 8);
    const f = data.subarray(off + 16, off + 16 + incl);
    off += 16 + incl;
    if (t0Sec < 0) t0Sec = sec;
    const t = (sec - t0Sec) * 1e9 + nsec;
    if (f.length < 14) continue;
    if (f[6] === 0x02 && f[7] === 0xee) {
      const i = f.readUInt32BE(8) - firstSeq;
      if (i >= 0 && i < count) {
        sentAt[i] = t;
        firstRequestNs = Math.min(firstRequestNs, t);
      }
    } else if (f[0] === 0x02 && f[1] === 0xee) {
      const isReply =
        proto === 'ARP'
          ? f.readUInt16BE(12) === 0x0806 && f.length >= 22 && f.readUInt16BE(20) === 2
          : f.readUInt16BE(12) === 0x86dd && f.length > 54 && f[54] === 136;
      const i = f.readUInt32BE(2) - firstSeq;
      if (!isReply || i < 0 || i >= count || answered[i]) continue;
      answered[i] = 1;
      lastReplyNs = Math.max(lastReplyNs, t);
      const s = sentAt[i] ?? NaN;
      if (!Number.isNaN(s)) latenciesMs.push((t - s) / 1e6);
    }
  }
  let replies = 0;
  for (const a of answered) replies += a;
  let requestsSeen = 0;
  for (const t of sentAt) if (!Number.isNaN(t)) requestsSeen++;
  return { replies, requestsSeen, latenciesMs, firstRequestNs, lastReplyNs };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

let nextSeq = 1;

async function step(dir: string, target: Target, proto: Proto, rate: number): Promise<Row> {
  const address =
    target === 'kernel' ? (proto === 'ARP' ? KERNEL_V4 : KERNEL_V6) : proto === 'ARP' ? VIP4 : VIP6;
  const seconds = rate === 0 ? FLOOD_SECONDS : PACED_SECONDS;
  const file = join(dir, `${target}-${proto}-${rate}.pcap`);
  const capture = await Capture.start(
    CLI,
    'rc0',
    file,
    ['-s', '96', '-B', '65536', '--time-stamp-precision=nano', 'arp or icmp6'],
    false,
  );
  const firstSeq = nextSeq;
  const cfg = { iface: 'rc0', first_seq: firstSeq, rate, seconds, ...loadFor(proto, address) };
  const gen = spawnSync('ip', ['netns', 'exec', CLI, 'python3', LOADGEN, JSON.stringify(cfg)], {
    encoding: 'utf8',
    timeout: (seconds + 30) * 1000,
  });
  if (gen.status !== 0) {
    await capture.stop();
    throw new Error(`load generator failed: ${gen.stderr}${gen.stdout}`);
  }
  const { sent, seconds: took } = JSON.parse(gen.stdout.trim()) as { sent: number; seconds: number };
  nextSeq += sent + 1;
  // Let the last replies arrive, and let the capture ring retire its last block (its timeout is
  // 1 s without immediate mode; frames in an unretired block would be lost on stop). Replies later
  // than this count as lost.
  await new Promise((r) => setTimeout(r, 1500));
  const summary = await capture.stop();
  const drops = Number(/(\d+) packets? dropped by kernel/.exec(summary)?.[1] ?? NaN);
  const a = analyse(file, firstSeq, sent, proto);
  rmSync(file, { force: true });
  const lat = a.latenciesMs.sort((x, y) => x - y);
  return {
    target,
    proto,
    offered: rate,
    sentPerS: sent / took,
    repliesPerS: a.replies / took,
    answered: sent === 0 ? 0 : a.replies / sent,
    p50: percentile(lat, 50),
    p99: percentile(lat, 99),
    max: lat.length ? (lat[lat.length - 1] ?? NaN) : NaN,
    captureDrops: drops,
    requestsSeen: a.requestsSeen,
    sent,
  };
}

async function setUp(): Promise<void> {
  for (const ns of [SPK, CLI]) await addNamespace(ns);
  await addVeth(
    { ns: SPK, name: 'rs0', mac: '02:00:00:00:52:00' },
    { ns: CLI, name: 'rc0', mac: '02:00:00:00:d0:00' },
  );
  await ipIn(SPK, ['addr', 'add', `${KERNEL_V4}/24`, 'dev', 'rs0']);
  await ipIn(SPK, ['addr', 'add', `${KERNEL_V6}/64`, 'dev', 'rs0', 'nodad']);
  await ipIn(CLI, ['addr', 'add', `${CLIENT_V4}/24`, 'dev', 'rc0']);
  await ipIn(CLI, ['addr', 'add', `${CLIENT_V6}/64`, 'dev', 'rc0', 'nodad']);
}

async function main(): Promise<void> {
  await sweepNamespaces([SPK, CLI]);
  const dir = mkdtempSync(join(tmpdir(), 'rbench-'));
  let responder: ResponderHandle | undefined;
  const rows: Row[] = [];
  try {
    await setUp();
    for (const target of ['kernel', 'responder'] as const) {
      if (target === 'responder') {
        responder = await ResponderHandle.start(
          SPK,
          {
            links: ['rs0'],
            announce: [
              { ip: VIP4, link: 'rs0' },
              { ip: VIP6, link: 'rs0' },
            ],
            burstMs: [0],
            refreshMs: 0,
            logFrames: false,
          },
          undefined,
          NODE_FLAGS,
        );
      }
      for (const proto of ['ARP', 'NS'] as const) {
        for (const rate of RATES) {
          const row = await step(dir, target, proto, rate);
          rows.push(row);
          process.stderr.write(
            `${target} ${proto} ${rate || 'max'}/s: ${row.repliesPerS.toFixed(0)} replies/s, p99 ${row.p99.toFixed(3)} ms\n`,
          );
        }
      }
    }
    if (responder) process.stderr.write(`responder counters: ${JSON.stringify(await responder.stats())}\n`);
  } finally {
    await responder?.stop();
    await sweepNamespaces([SPK, CLI]);
    rmSync(dir, { recursive: true, force: true });
  }

  const kernelOf = (r: Row) =>
    rows.find((k) => k.target === 'kernel' && k.proto === r.proto && k.offered === r.offered);
  const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : '-');
  console.log(`The responder's Node flags: ${NODE_FLAGS.join(' ') || '(none)'}`);
  console.table(
    rows.map((r) => ({
      target: r.target,
      request: r.proto,
      'offered/s': r.offered === 0 ? 'max' : r.offered,
      'sent/s': fmt(r.sentPerS),
      'replies/s': fmt(r.repliesPerS),
      answered: `${fmt(r.answered * 100, 1)}%`,
      'p50 ms': fmt(r.p50, 3),
      'p99 ms': fmt(r.p99, 3),
      'max ms': fmt(r.max, 3),
      'vs kernel':
        r.target === 'responder' && kernelOf(r)
          ? `${fmt((100 * r.repliesPerS) / kernelOf(r)!.repliesPerS, 0)}%`
          : '',
      'captured req': `${fmt((100 * r.requestsSeen) / r.sent, 1)}%`,
      'capture drops': Number.isFinite(r.captureDrops) ? r.captureDrops : '?',
    })),
  );
  const at10k = rows.filter((r) => r.target === 'responder' && r.offered === 10_000);
  const flood = rows.filter((r) => r.target === 'responder' && r.offered === 0);
  const verdicts = [
    ...at10k.map(
      (r) => `${r.proto} p99 at 10k/s ${fmt(r.p99, 3)} ms (target < 2 ms): ${r.p99 < 2 ? 'met' : 'MISSED'}`,
    ),
    ...flood.map((r) => {
      const k = kernelOf(r);
      const share = k ? r.repliesPerS / k.repliesPerS : NaN;
      // At 'max' the kernel answers inside the sender's own softirq (veth), so one sender cannot
      // saturate it: when it answered everything, its figure is a lower bound of its limit.
      const bound =
        k && k.answered > 0.99 ? ' (kernel answered all the sender could send: its limit is higher)' : '';
      return `${r.proto} saturated throughput ${fmt(r.repliesPerS)}/s = ${fmt(share * 100)}% of the kernel's${bound} (target >= 25%): ${share >= 0.25 ? 'met' : 'MISSED'}`;
    }),
  ];
  console.log(verdicts.join('\n'));
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
