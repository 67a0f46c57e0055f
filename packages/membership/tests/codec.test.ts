import { createHmac } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  MAX_PACKET_LENGTH,
  decodePacket,
  encodePacket,
  keysProblem,
  type Packet,
  type MembershipKeys,
  type RejectReason,
} from '../src/index.js';
import { packetArb } from './arbitraries.js';
import { hex } from './hex.js';
import { DEAD_WITH_UPDATE, KEY, OTHER_KEY, PING, PING_OTHER_KEY, SYNC } from './vectors.js';

const keys = { primary: KEY };

function reason(buf: Buffer, k: MembershipKeys = keys): RejectReason | 'ok' {
  const r = decodePacket(buf, k);
  return r.ok ? 'ok' : r.error.reason;
}

/** Signs hand-made bytes with KEY, so the checks after the MAC can be reached. */
function signed(body: Buffer): Buffer {
  return Buffer.concat([body, createHmac('sha256', KEY).update(body).digest()]);
}

describe('golden packets', () => {
  const ping: Packet = {
    sender: 'node-a',
    incarnation: 7,
    sequence: 1,
    message: { type: 'ping', target: 'node-b' },
    updates: [],
  };
  const dead: Packet = {
    sender: 'node-b',
    incarnation: 0x01020304,
    sequence: 0xfffffffe,
    message: { type: 'dead', member: 'node-c', incarnation: 5, reason: 'confirmed' },
    updates: [{ status: 'suspect', member: 'node-d', incarnation: 9 }],
  };
  const sync: Packet = {
    sender: 'node-a',
    incarnation: 1,
    sequence: 2,
    message: {
      type: 'sync',
      entries: [
        { status: 'alive', member: 'node-a', incarnation: 1 },
        { status: 'dead', member: 'node-c', incarnation: 4 },
      ],
    },
    updates: [],
  };

  it.each([
    ['ping', PING, ping],
    ['dead with a piggybacked suspect', DEAD_WITH_UPDATE, dead],
    ['sync', SYNC, sync],
  ])('%s decodes to its fields and encodes to the same bytes', (_, bytes, packet) => {
    expect(decodePacket(bytes, keys)).toEqual({ ok: true, value: { packet, signedWith: 'primary' } });
    expect(encodePacket(packet, keys).toString('hex')).toBe(bytes.toString('hex'));
  });

  it('accepts the secondary key during rotation and says so; signs with the primary', () => {
    const rotating = { primary: KEY, secondary: OTHER_KEY };
    const r = decodePacket(PING_OTHER_KEY, rotating);
    expect(r.ok && r.value.signedWith).toBe('secondary');
    expect(reason(PING_OTHER_KEY)).toBe('bad-mac');
    expect(reason(PING, { primary: OTHER_KEY, secondary: KEY })).toBe('ok');
    const ours = decodePacket(PING, rotating);
    expect(ours.ok && encodePacket(ours.value.packet, rotating).equals(PING)).toBe(true);
  });
});

describe('rejections are typed errors, never throws', () => {
  it('every truncation of every golden packet is rejected', () => {
    for (const packet of [PING, DEAD_WITH_UPDATE, SYNC]) {
      for (let len = 0; len < packet.length; len++) {
        expect(['truncated', 'bad-mac']).toContain(reason(packet.subarray(0, len)));
      }
    }
    expect(decodePacket(Buffer.alloc(10), keys)).toMatchObject({
      ok: false,
      error: { reason: 'truncated', offset: 0 },
    });
  });

  it('any flipped bit is a bad MAC (or a bad version in the first byte)', () => {
    for (let bit = 0; bit < PING.length * 8; bit++) {
      const copy = Buffer.from(PING);
      copy[bit >> 3] = (copy[bit >> 3] as number) ^ (1 << (bit & 7));
      expect(reason(copy)).toBe(bit < 8 ? 'bad-version' : 'bad-mac');
    }
  });

  it('names the reason for authenticated but invalid contents', () => {
    const name = (s: string) => Buffer.concat([Buffer.from([s.length]), Buffer.from(s, 'latin1')]);
    const head = (type: number) => hex(`01 ${type.toString(16).padStart(2, '0')} 00000001 00000001`);
    const cases: Array<[string, Buffer, RejectReason, string?]> = [
      ['unknown type 99', Buffer.concat([head(99), name('node-a'), hex('00')]), 'unknown-type', 'type'],
      ['type 0', Buffer.concat([head(0), name('node-a'), hex('00')]), 'unknown-type', 'type'],
      ['uppercase sender', Buffer.concat([head(9), name('Node-A'), hex('00')]), 'malformed', 'sender'],
      ['empty sender', Buffer.concat([head(9), name(''), hex('00 00')]), 'malformed', 'sender'],
      ['sender with a NUL', Buffer.concat([head(9), name('a\u0000b'), hex('00')]), 'malformed', 'sender'],
      ['trailing byte', Buffer.concat([head(9), name('node-a'), hex('00 00')]), 'malformed'],
      ['update count past the end', Buffer.concat([head(9), name('node-a'), hex('05')]), 'truncated'],
      [
        'update status 9',
        Buffer.concat([head(9), name('node-a'), hex('01 09 00000001'), name('node-b')]),
        'malformed',
        'updates[0].status',
      ],
      [
        'dead reason 3',
        Buffer.concat([head(7), name('node-a'), name('node-b'), hex('00000001 03 00')]),
        'malformed',
        'dead.reason',
      ],
      ['sync count 65535, no entries', Buffer.concat([head(10), name('node-a'), hex('ffff')]), 'truncated'],
      ['ack without its probe', Buffer.concat([head(2), name('node-a'), hex('0000')]), 'truncated'],
      ['name length past the end', Buffer.concat([head(1), name('node-a'), hex('ff 6e')]), 'truncated'],
    ];
    for (const [what, body, want, field] of cases) {
      const r = decodePacket(signed(body), keys);
      expect({ what, reason: r.ok ? 'ok' : r.error.reason }).toEqual({ what, reason: want });
      if (field && !r.ok) expect({ what, field: r.error.field }).toEqual({ what, field });
      if (!r.ok) expect(r.error.message.length).toBeGreaterThan(10);
    }
  });

  it('rejects a wrong version before looking at the MAC, and a datagram too large for UDP', () => {
    const v2 = Buffer.from(PING);
    v2[0] = 2;
    expect(decodePacket(v2, keys)).toMatchObject({
      ok: false,
      error: { reason: 'bad-version', field: 'version' },
    });
    expect(reason(Buffer.alloc(MAX_PACKET_LENGTH + 1, 1))).toBe('too-large');
  });
});

describe('encoder contract', () => {
  const base: Packet = {
    sender: 'node-a',
    incarnation: 1,
    sequence: 1,
    message: { type: 'join' },
    updates: [],
  };
  it('throws a RangeError naming the field', () => {
    expect(() => encodePacket({ ...base, sender: 'Node-A' }, keys)).toThrow('packet.sender');
    expect(() => encodePacket({ ...base, incarnation: 2 ** 32 }, keys)).toThrow('packet.incarnation');
    expect(() => encodePacket({ ...base, message: { type: 'ping', target: '' } }, keys)).toThrow(
      'ping.target',
    );
    expect(() => encodePacket(base, { primary: Buffer.alloc(8) })).toThrow('at least 16');
    const many = Array.from({ length: 256 }, () => ({
      status: 'alive' as const,
      member: 'x',
      incarnation: 0,
    }));
    expect(() => encodePacket({ ...base, updates: many }, keys)).toThrow('at most 255');
  });
  it('keysProblem explains a missing or short key', () => {
    expect(keysProblem(undefined)).toBe('no membership key configured');
    expect(keysProblem({ primary: Buffer.alloc(4) })).toContain('4 bytes');
    expect(keysProblem({ primary: KEY, secondary: Buffer.alloc(3) })).toContain('secondary');
    expect(keysProblem({ primary: KEY })).toBeUndefined();
  });
});

describe('properties', () => {
  it('decode(encode(p)) = p for every valid packet, and re-encoding is byte-identical', () => {
    fc.assert(
      fc.property(packetArb, (p) => {
        const bytes = encodePacket(p, keys);
        const back = decodePacket(bytes, keys);
        expect(back).toEqual({ ok: true, value: { packet: p, signedWith: 'primary' } });
        expect(back.ok && encodePacket(back.value.packet, keys).equals(bytes)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
  it('a packet under another key is always bad-mac', () => {
    fc.assert(
      fc.property(packetArb, (p) => reason(encodePacket(p, { primary: OTHER_KEY })) === 'bad-mac'),
      { numRuns: 200 },
    );
  });
});
