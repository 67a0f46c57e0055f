import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import {
  arpReply,
  encodeArpFrame,
  gratuitousArp,
  ipv4ToBytes,
  ipv6ToBytes,
  mldv2Report,
  neighborAdvertisement,
  neighborSolicitation,
  solicitedNodeMulticast,
} from '@metallb-ts/l2-proto';
import { RESPONDER_FILTER } from '../src/pcap-link.js';

// The filter is compiled by libpcap; tcpdump (installed by scripts/setup.sh for the lab) runs
// exactly that compiler offline over a capture file, so no interface or privilege is needed.
const asker = Buffer.from([0x02, 0, 0, 0, 0, 0x01]);
const ours = Buffer.from([0x02, 0, 0, 0, 0, 0x02]);
const v4 = (s: string) => {
  const r = ipv4ToBytes(s);
  if (!r.ok) throw new Error(s);
  return r.value;
};
const v6 = (s: string) => {
  const r = ipv6ToBytes(s);
  if (!r.ok) throw new Error(s);
  return r.value;
};
const vlan = { pcp: 0, dei: false, id: 42 };
const arpRequest = (tag?: typeof vlan) =>
  encodeArpFrame({
    destination: Buffer.alloc(6, 0xff),
    source: asker,
    ...(tag ? { vlan: tag } : {}),
    arp: {
      operation: 'request',
      senderMac: asker,
      senderIp: v4('192.0.2.1'),
      targetMac: Buffer.alloc(6),
      targetIp: v4('192.0.2.200'),
    },
  });
const reply = (tag?: typeof vlan) =>
  arpReply({
    ourMac: ours,
    vip: v4('192.0.2.200'),
    askerMac: asker,
    askerIp: v4('192.0.2.1'),
    ...(tag ? { vlan: tag } : {}),
  });
const ns = (tag?: typeof vlan) =>
  neighborSolicitation({
    mac: asker,
    source: v6('2001:db8::1'),
    target: v6('2001:db8::200'),
    ...(tag ? { vlan: tag } : {}),
  });
const na = (tag?: typeof vlan) =>
  neighborAdvertisement({
    ourMac: ours,
    target: v6('2001:db8::200'),
    toMac: asker,
    toIp: v6('2001:db8::1'),
    solicited: true,
    override: true,
    router: false,
    ...(tag ? { vlan: tag } : {}),
  });

const frames: { name: string; frame: Buffer; pass: boolean }[] = [
  { name: 'ARP request', frame: arpRequest(), pass: true },
  { name: 'ARP request, VLAN', frame: arpRequest(vlan), pass: true },
  {
    name: 'gratuitous ARP request',
    frame: gratuitousArp({ mac: ours, ip: v4('192.0.2.9'), kind: 'request' }),
    pass: true,
  },
  { name: 'ARP reply', frame: reply(), pass: false },
  { name: 'ARP reply, VLAN', frame: reply(vlan), pass: false },
  {
    name: 'gratuitous ARP reply',
    frame: gratuitousArp({ mac: ours, ip: v4('192.0.2.9'), kind: 'reply' }),
    pass: false,
  },
  { name: 'NS', frame: ns(), pass: true },
  { name: 'NS, VLAN', frame: ns(vlan), pass: true },
  { name: 'NA', frame: na(), pass: false },
  { name: 'NA, VLAN', frame: na(vlan), pass: false },
  {
    name: 'MLDv2 report',
    frame: mldv2Report({ mac: ours, join: [solicitedNodeMulticast(v6('2001:db8::200'))] }),
    pass: false,
  },
];

/** A classic pcap file (Ethernet link type); frame i gets timestamp i seconds to be told apart. */
function pcapFile(list: Buffer[]): Buffer {
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(65535, 16);
  header.writeUInt32LE(1, 20);
  const records = list.map((f, i) => {
    const r = Buffer.alloc(16);
    r.writeUInt32LE(i + 1, 0);
    r.writeUInt32LE(f.length, 8);
    r.writeUInt32LE(f.length, 12);
    return Buffer.concat([r, f]);
  });
  return Buffer.concat([header, ...records]);
}

describe('RESPONDER_FILTER', () => {
  const dir = mkdtempSync(join(tmpdir(), 'responder-filter-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('passes ARP requests and Neighbor Solicitations, tagged or not, and nothing else', () => {
    const file = join(dir, 'frames.pcap');
    writeFileSync(file, pcapFile(frames.map((f) => f.frame)));
    const out = execFileSync('tcpdump', ['-r', file, '-nn', '-tt', RESPONDER_FILTER], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const passed = out
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => frames[parseInt(l, 10) - 1]?.name);
    expect(passed).toEqual(frames.filter((f) => f.pass).map((f) => f.name));
  });
});
