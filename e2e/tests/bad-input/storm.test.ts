import { describe, expect, it } from '@jest/globals';
import { generateStorm } from '../../src/bad-input.js';

// The bad-input storm's own promises, lab-free: a Service that asks for one bad address must be
// told about that address as written. The annotation is a comma-separated list and the controller
// names the bad item, so a bad address with a comma in it was named only in part (",!)$" came
// back as "!)$", seed 1903332033), and commas alone would have asked for nothing at all.
const SEEDS = [1903332033, ...Array.from({ length: 30 }, (_, i) => i)];

describe('generateStorm: one bad requested address', () => {
  it('is the whole annotation, has no comma, and is what the event must name', () => {
    const seen: string[] = [];
    for (const seed of SEEDS) {
      const storm = generateStorm({
        seed,
        count: 150,
        poolNamespace: 'metallb-system',
        serviceNamespace: 'bad-input',
        healthyPool: { name: 'healthy', cidr: '2001:db8:600d::/120', held: ['2001:db8:600d::1'] },
      });
      for (const c of storm.filter((c) => c.name.startsWith('bad-ip-'))) {
        const body = JSON.parse(String(c.body)) as { metadata: { annotations: Record<string, string> } };
        const asked = body.metadata.annotations['metallb.io/loadBalancerIPs'];
        expect({ seed, name: c.name, asked, why: c.why }).toEqual({
          seed,
          name: c.name,
          asked: c.why,
          why: c.why,
        });
        expect({ seed, name: c.name, comma: c.why?.includes(',') }).toEqual({
          seed,
          name: c.name,
          comma: false,
        });
        seen.push(asked!);
      }
    }
    // The property held over garbage too, not only over the fixed bad addresses.
    const fixed = ['2001:db8::zz', '203.0.113.999', 'localhost', '::1::2'];
    expect(seen.filter((s) => !fixed.includes(s)).length).toBeGreaterThan(5);
  });
});
