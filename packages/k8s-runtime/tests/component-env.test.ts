import { describe, expect, it } from '@jest/globals';
import { readCommonEnv } from '../src/component-env.js';

describe('readCommonEnv', () => {
  it('applies defaults', () => {
    expect(readCommonEnv({})).toEqual({
      ok: true,
      value: { namespace: 'metallb-system', metricsHost: '0.0.0.0', metricsPort: 7472, logLevel: 'info' },
    });
  });
  it('maps MetalLB\'s "all" to debug', () => {
    const r = readCommonEnv({ LOG_LEVEL: 'all' });
    expect(r.ok && r.value.logLevel).toBe('debug');
  });
  it('names the variable and value that are wrong', () => {
    expect(readCommonEnv({ METRICS_PORT: '70000' })).toEqual({
      ok: false,
      error: 'METRICS_PORT "70000" is not a port number (0-65535)',
    });
    const r = readCommonEnv({ LOG_LEVEL: 'loud' });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toContain('LOG_LEVEL "loud"');
  });
});
