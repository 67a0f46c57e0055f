import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { electNode, electionOrder } from '../src/election.js';

describe('electionOrder', () => {
  it('matches sha256sum of NODE#IP (golden vector computed with coreutils)', () => {
    // printf 'node-N#203.0.113.200' | sha256sum -> node-3 691b…, node-1 a378…, node-2 b73f…
    expect(electionOrder(['node-1', 'node-2', 'node-3'], '203.0.113.200')).toEqual([
      'node-3',
      'node-1',
      'node-2',
    ]);
  });

  it('orders by the digest bytes, whatever the input order', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 8 }),
        fc.ipV4(),
        (nodes, ip) => {
          const hex = (n: string) => createHash('sha256').update(`${n}#${ip}`).digest('hex');
          const expected = [...nodes].sort((a, b) => (hex(a) < hex(b) ? -1 : hex(a) > hex(b) ? 1 : 0));
          expect(electionOrder(nodes, ip)).toEqual(expected);
          expect(electionOrder([...nodes].reverse(), ip)).toEqual(expected);
        },
      ),
    );
  });

  it('elects nobody from no candidates', () => {
    expect(electNode([], '203.0.113.1')).toBeUndefined();
  });

  it('removing a node that did not win keeps the winner (stable failover)', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ minLength: 1 }), { minLength: 2, maxLength: 8 }),
        fc.ipV4(),
        (nodes, ip) => {
          const winner = electNode(nodes, ip)!;
          const loser = nodes.find((n) => n !== winner)!;
          expect(
            electNode(
              nodes.filter((n) => n !== loser),
              ip,
            ),
          ).toBe(winner);
        },
      ),
    );
  });
});
