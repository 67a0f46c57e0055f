import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { IntervalSet } from '../src/index.js';

describe('IntervalSet', () => {
  it('keeps a huge range as one interval and splits/merges on delete/add', () => {
    const set = new IntervalSet();
    set.addRange(0n, 2n ** 64n - 1n);
    expect(set.size).toBe(2n ** 64n);
    expect(set.delete(5n)).toBe(true);
    expect(set.delete(5n)).toBe(false);
    expect(set.intervalCount).toBe(2);
    expect(set.has(5n)).toBe(false);
    expect(set.add(5n)).toBe(true);
    expect(set.add(5n)).toBe(false);
    expect(set.intervalCount).toBe(1);
    expect(set.min()).toEqual({ start: 0n, end: 2n ** 64n - 1n });
  });

  it('behaves like a set of numbers (model-based)', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('add' as const), x: fc.integer({ min: 0, max: 60 }) }),
      fc.record({ kind: fc.constant('delete' as const), x: fc.integer({ min: 0, max: 60 }) }),
      fc.record({
        kind: fc.constant('range' as const),
        x: fc.integer({ min: 0, max: 60 }),
        len: fc.integer({ min: 0, max: 10 }),
      }),
      fc.record({ kind: fc.constant('dropMin' as const) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const set = new IntervalSet();
        const model = new Set<number>();
        for (const o of ops) {
          if (o.kind === 'add') {
            expect(set.add(BigInt(o.x))).toBe(!model.has(o.x));
            model.add(o.x);
          } else if (o.kind === 'delete') {
            expect(set.delete(BigInt(o.x))).toBe(model.has(o.x));
            model.delete(o.x);
          } else if (o.kind === 'range') {
            set.addRange(BigInt(o.x), BigInt(o.x + o.len));
            for (let i = o.x; i <= o.x + o.len; i++) model.add(i);
          } else {
            const m = set.min();
            if (m) {
              set.deleteInterval(m.start);
              for (let i = Number(m.start); i <= Number(m.end); i++) model.delete(i);
            }
          }
          expect(set.size).toBe(BigInt(model.size));
          // Stored intervals are sorted, disjoint and never adjacent, and cover exactly the model.
          const intervals = [...set];
          expect(intervals.length).toBe(set.intervalCount);
          for (let i = 1; i < intervals.length; i++)
            expect(intervals[i]!.start > intervals[i - 1]!.end + 1n).toBe(true);
          const covered = intervals.flatMap(({ start, end }) =>
            Array.from({ length: Number(end - start) + 1 }, (_, k) => Number(start) + k),
          );
          expect(covered).toEqual([...model].sort((a, b) => a - b));
          expect(set.min()?.start).toBe(intervals[0]?.start);
        }
      }),
      { numRuns: 300 },
    );
  });
});
