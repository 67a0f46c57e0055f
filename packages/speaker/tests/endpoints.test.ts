import { describe, expect, it } from '@jest/globals';
import { endpointFacts } from '../src/endpoints.js';

describe('endpointFacts', () => {
  it('counts ready endpoints (absent ready means ready)', () => {
    const f = endpointFacts([
      { nodeName: 'a', conditions: { ready: true } },
      { nodeName: 'b', conditions: {} },
      { nodeName: 'c', conditions: { ready: false, serving: true } },
    ]);
    expect(f.hasEndpoints).toBe(true);
    expect([...f.endpointNodes].sort()).toEqual(['a', 'b']);
  });

  it('falls back to serving endpoints only when none is ready', () => {
    const f = endpointFacts([
      { nodeName: 'c', conditions: { ready: false, serving: true, terminating: true } },
      { nodeName: 'd', conditions: { ready: false, serving: false } },
    ]);
    expect(f).toEqual({ hasEndpoints: true, endpointNodes: new Set(['c']) });
  });

  it('reports no endpoints when nothing is ready or serving', () => {
    expect(endpointFacts([{ nodeName: 'd', conditions: { ready: false } }]).hasEndpoints).toBe(false);
    expect(endpointFacts([]).hasEndpoints).toBe(false);
  });
});
