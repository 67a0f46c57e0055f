import { describe, expect, it } from '@jest/globals';
import { TARGETS, check, runFuzz } from '../fuzz/fuzz-body.js';
import { hex } from './hex.js';

/** The fuzz driver's body with a small budget, so CI fails on a throw or an unstable round trip. */
describe('decoder fuzz (CI budget)', () => {
  it('2,500 random and mutated inputs per decoder: no throw, stable round trips', () => {
    const { stats, findings } = runFuzz({
      iterationsPerTarget: 2_500,
      seed: 20_240_601,
      slowMicros: 250_000,
    });
    expect(findings).toEqual([]);
    expect(stats.map((s) => s.target)).toEqual(TARGETS.map((t) => t.name));
    for (const s of stats) {
      expect(s.inputs).toBe(2_500);
      // The mutator must reach past the first length check, or the run proves little.
      expect(s.decoded).toBeGreaterThan(250);
    }
  });
});

/**
 * Hostile inputs aimed at the loops and length arithmetic. Each is named for the mistake it would
 * catch; all must come back as a typed error (or a stable decode), never a throw or a hang.
 */
const REGRESSIONS: Array<[string, string, string]> = [
  ['ndp-options', 'zero-length option would loop forever', '0100 0000 0000 0000'],
  ['ndp-options', 'option length 255 past the end', '01ff 0000 0000 0000'],
  ['ndp-options', 'single stray byte after an option', '0101 020000000001 07'],
  ['mldv2-report', 'record count 65535 with no records', '0000 ffff'],
  ['mldv2-report', 'source count 65535 in a 20-byte record', `0000 0001 04 00 ffff ${'00'.repeat(16)}`],
  ['mldv2-report', 'aux data length 255 in a 20-byte record', `0000 0001 04 ff 0000 ${'00'.repeat(16)}`],
  ['ipv6', 'payload length 65535 in a 40-byte buffer', `6000 0000 ffff 3a ff ${'00'.repeat(32)}`],
  ['ipv6', 'jumbogram (payload length 0 with Hop-by-Hop)', `6000 0000 0000 00 ff ${'00'.repeat(32)}`],
  [
    'ipv6',
    'Hop-by-Hop length byte 255 in an 8-byte payload',
    `6000 0000 0008 00 01 ${'00'.repeat(32)} 3aff 0000 0000 0000`,
  ],
  [
    'ipv6',
    'Hop-by-Hop PadN with no length byte',
    `6000 0000 0008 00 01 ${'00'.repeat(32)} 3a00 0000 0000 0001`,
  ],
  ['ipv6', 'version 4 header', `4500 0000 0000 3a ff ${'00'.repeat(32)}`],
  ['ethernet', 'tag with no room for the inner EtherType', '333300000001 020000000050 8100 0064'],
  ['ethernet', 'stacked 802.1Q tags', '333300000001 020000000050 8100 0064 8100 0065 0806'],
  ['frame', 'IPv6 EtherType with an empty payload', `333300000001 020000000050 86dd ${'00'.repeat(46)}`],
  [
    'frame',
    'ICMPv6 header cut after the type byte',
    `333300000001 020000000050 86dd 6000 0000 0001 3a ff ${'00'.repeat(32)} 87`,
  ],
  ['frame', 'ARP with hlen 255', `ffffffffffff 020000000050 0806 0001 0800 ff 04 0001 ${'00'.repeat(20)}`],
  ['arp', 'exactly 27 bytes', `0001 0800 0604 0001 ${'00'.repeat(19)}`],
  ['neighbor-solicitation', 'target cut short', `00000000 20010db8`],
  [
    'neighbor-advertisement',
    'zero-length option after the target',
    `60000000 ${'00'.repeat(16)} 0200 0000 0000 0000`,
  ],
];

describe('fuzz regression cases', () => {
  it.each(REGRESSIONS)('%s: %s', (targetName, _why, input) => {
    const target = TARGETS.find((t) => t.name === targetName);
    if (!target) throw new Error(`no fuzz target ${targetName}`);
    const result = check(target, hex(input));
    expect(result.finding).toBeUndefined();
    expect(
      result.decoded ||
        ['short-buffer', 'malformed', 'unsupported', 'bad-checksum'].includes(result.code ?? ''),
    ).toBe(true);
  });
});
