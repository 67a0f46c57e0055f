import {
  arpReply,
  decodeFrame,
  encodeFrame,
  gratuitousArp,
  ipv4ToBytes,
  ipv6ToBytes,
  mldv2Report,
  neighborAdvertisement,
  neighborSolicitation,
  parseMac,
  solicitedNodeMulticast,
  unsolicitedNeighborAdvertisement,
  type DecodedFrame,
} from '../src/index.js';

/**
 * Decode and encode rate per message type, in frames per second. "decode" is decodeFrame on
 * the whole frame (including the ICMPv6 checksum check); "encode" is the builder the speaker
 * calls, or encodeFrame on the decoded value where there is no builder.
 * Run: pnpm exec tsx packages/l2-proto/bench/codec.bench.ts [msPerCase]
 */
const msPerCase = Number(process.argv[2] ?? 400);

function must<T>(r: { ok: true; value: T } | { ok: false; error: { message: string } }): T {
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}

const us = must(parseMac('02:00:00:00:00:01'));
const asker = must(parseMac('02:00:00:00:00:50'));
const vip4 = must(ipv4ToBytes('203.0.113.10'));
const asker4 = must(ipv4ToBytes('203.0.113.50'));
const vip6 = must(ipv6ToBytes('2001:db8:1::10'));
const asker6 = must(ipv6ToBytes('2001:db8:1::50'));
const linkLocal = must(ipv6ToBytes('fe80::1'));
const vlan = { pcp: 0, dei: false, id: 100 };

const arpRequest = (tag?: typeof vlan): Buffer =>
  encodeFrame({
    kind: 'arp',
    ethernet: {
      destination: Buffer.alloc(6, 0xff),
      source: asker,
      ...(tag ? { vlan: tag } : {}),
      etherType: 0x0806,
      payload: Buffer.alloc(0),
    },
    arp: {
      operation: 'request',
      senderMac: asker,
      senderIp: asker4,
      targetMac: Buffer.alloc(6),
      targetIp: vip4,
    },
  });

// Each case is only its builder: the frame that is decoded is the builder's own output.
const cases: Array<{ message: string; encode: () => Buffer }> = [
  { message: 'ARP request', encode: () => arpRequest() },
  { message: 'ARP request, 802.1Q', encode: () => arpRequest(vlan) },
  {
    message: 'ARP reply (arpReply)',
    encode: () => arpReply({ ourMac: us, vip: vip4, askerMac: asker, askerIp: asker4 }),
  },
  { message: 'gratuitous ARP', encode: () => gratuitousArp({ mac: us, ip: vip4, kind: 'request' }) },
  {
    message: 'NDP NS',
    encode: () => neighborSolicitation({ mac: asker, source: asker6, target: vip6 }),
  },
  {
    message: 'NDP NA (neighborAdvertisement)',
    encode: () =>
      neighborAdvertisement({
        ourMac: us,
        target: vip6,
        toMac: asker,
        toIp: asker6,
        solicited: true,
        override: true,
        router: false,
      }),
  },
  { message: 'unsolicited NA', encode: () => unsolicitedNeighborAdvertisement({ mac: us, ip: vip6 }) },
  {
    message: 'MLDv2 report (1 group)',
    encode: () => mldv2Report({ mac: us, source: linkLocal, join: [solicitedNodeMulticast(vip6)] }),
  },
];

let sink = 0;
function rate(run: () => void): number {
  for (let i = 0; i < 2_000; i++) run(); // warm-up so the JIT has compiled the path
  let count = 0;
  const started = process.hrtime.bigint();
  const budget = BigInt(msPerCase) * 1_000_000n;
  let elapsed = 0n;
  while (elapsed < budget) {
    for (let i = 0; i < 1_000; i++) run();
    count += 1_000;
    elapsed = process.hrtime.bigint() - started;
  }
  return count / (Number(elapsed) / 1e9);
}

const rows = cases.map(({ message, encode }) => {
  const frame = encode();
  const decoded = decodeFrame(frame);
  if (!decoded.ok) throw new Error(`${message}: ${decoded.error.message}`);
  const value: DecodedFrame = decoded.value;
  const decodeRate = rate(() => {
    const r = decodeFrame(frame);
    sink += r.ok ? 1 : 0;
  });
  const encodeRate = rate(() => {
    sink += encode().length;
  });
  const reencodeRate = rate(() => {
    sink += encodeFrame(value).length;
  });
  return {
    message,
    kind: value.kind,
    bytes: frame.length,
    'decode frames/s': Math.round(decodeRate),
    'encode frames/s': Math.round(encodeRate),
    'encodeFrame frames/s': Math.round(reencodeRate),
  };
});

console.table(rows);
if (sink === 42) console.log(''); // keeps the results observable to the optimiser
