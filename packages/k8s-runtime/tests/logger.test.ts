import { describe, it, expect } from '@jest/globals';
import { createLogger, parseLogLevel } from '../src/logger.js';
import { KubeError } from '../src/kube-error.js';

function capture(level?: Parameters<typeof createLogger>[0]['level']) {
  const lines: string[] = [];
  const logger = createLogger({
    component: 'controller',
    level,
    write: (l) => lines.push(l),
    now: () => new Date('2024-05-06T07:08:09.010Z'),
  });
  return { logger, lines, parsed: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('createLogger', () => {
  it('writes one JSON object per line with ts, level, component, msg and the fields', () => {
    const { logger, lines, parsed } = capture();
    logger.info('service reconciled', { key: 'default/web', ips: ['203.0.113.10'] });
    expect(lines).toHaveLength(1);
    expect(lines[0]!.endsWith('\n')).toBe(true);
    expect(lines[0]!.slice(0, -1)).not.toContain('\n');
    expect(parsed()[0]).toEqual({
      ts: '2024-05-06T07:08:09.010Z',
      level: 'info',
      component: 'controller',
      msg: 'service reconciled',
      key: 'default/web',
      ips: ['203.0.113.10'],
    });
  });

  it('filters by level and writes nothing at none', () => {
    const warnOnly = capture('warn');
    warnOnly.logger.debug('d');
    warnOnly.logger.info('i');
    warnOnly.logger.warn('w');
    warnOnly.logger.error('e');
    expect(warnOnly.parsed().map((r) => r['level'])).toEqual(['warn', 'error']);
    expect(warnOnly.logger.enabled('info')).toBe(false);
    const none = capture('none');
    none.logger.error('e');
    expect(none.lines).toHaveLength(0);
  });

  it('children carry bound fields; core keys cannot be overwritten', () => {
    const { logger, parsed } = capture('debug');
    logger.child({ key: 'ns/a' }).child({ attempt: 2 }).debug('x', { msg: 'shadow', level: 'error' });
    const r = parsed()[0]!;
    expect(r['key']).toBe('ns/a');
    expect(r['attempt']).toBe(2);
    expect(r['msg']).toBe('x');
    expect(r['level']).toBe('debug');
    expect(r['field.msg']).toBe('shadow');
  });

  it('serialises errors, including the API status of a KubeError', () => {
    const { logger, parsed } = capture();
    const status = {
      kind: 'Status',
      apiVersion: 'v1',
      status: 'Failure',
      reason: 'Conflict',
      code: 409,
      message: 'stale',
    };
    logger.error('update failed', {
      error: new KubeError({ status: 409, reason: 'Conflict', message: 'stale', body: status }),
      other: new TypeError('bad'),
    });
    const r = parsed()[0]!;
    expect(r['error']).toEqual({ message: 'stale', status: 409, reason: 'Conflict', body: status });
    expect(r['other']).toEqual({ name: 'TypeError', message: 'bad' });
  });

  it('survives circular fields', () => {
    const { logger, parsed } = capture();
    const loop: Record<string, unknown> = {};
    loop['self'] = loop;
    logger.info('loop', { loop });
    expect(parsed()[0]!['msg']).toBe('loop');
    expect(String(parsed()[0]!['logError'])).toContain('not serialisable');
  });

  it('parses MetalLB log levels', () => {
    expect(parseLogLevel('all')).toBe('debug');
    expect(parseLogLevel('warn')).toBe('warn');
    expect(parseLogLevel('none')).toBe('none');
    expect(parseLogLevel('nonsense', 'error')).toBe('error');
    expect(parseLogLevel(undefined)).toBe('info');
  });
});
