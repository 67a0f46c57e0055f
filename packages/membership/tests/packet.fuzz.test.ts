import { describe, expect, it } from '@jest/globals';
import { Membership, encodePacket } from '../src/index.js';
import { check, fuzzPackets, FUZZ_KEY } from '../fuzz/packet.fuzz.js';

/** The fuzz driver's body with a small budget, so CI fails on a throw or a non-canonical decode. */
describe('packet fuzz (CI budget)', () => {
  it('4,000 random and mutated inputs: no finding, and the mutator reaches past the MAC', () => {
    const summary = fuzzPackets(4_000, 20_261_201, { slowMicros: 250_000 });
    expect(summary.findings).toEqual([]);
    expect(summary.inputs).toBe(4_000);
    expect(summary.accepted).toBeGreaterThan(100);
    for (const reason of ['truncated', 'bad-mac', 'malformed', 'unknown-type'])
      expect(summary.rejected[reason]).toBeGreaterThan(0);
  });

  it('check() classifies inputs: a valid packet is accepted, garbage is a typed rejection', () => {
    const member = new Membership({
      name: 'node-a',
      keys: { primary: FUZZ_KEY },
      peers: ['node-a'],
      incarnation: 1,
      random: () => 0.5,
    });
    const valid = encodePacket(
      {
        sender: 'node-b',
        incarnation: 3,
        sequence: 9,
        message: { type: 'ping', target: 'node-a' },
        updates: [],
      },
      { primary: FUZZ_KEY },
    );
    expect(check(valid, member, 0)).toEqual({ reason: 'accepted' });
    expect(check(Buffer.alloc(60, 1), member, 0)).toEqual({ reason: 'bad-mac' });
    expect(check(Buffer.alloc(60, 2), member, 0)).toEqual({ reason: 'bad-version' });
  });
});
