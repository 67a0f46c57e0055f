import { describe, expect, it } from '@jest/globals';
import { decideStartup, packageVersion, type SettingsResult } from '../src/cli.js';

const input = (args: string[], read: () => SettingsResult<{ port: number }>) => ({
  component: 'speaker',
  args,
  version: '1.2.3',
  help: () => 'speaker settings\n',
  read,
  now: () => new Date('2026-01-02T03:04:05.000Z'),
});
const never = (): SettingsResult<{ port: number }> => {
  throw new Error('settings must not be read');
};

describe('decideStartup', () => {
  it('--help and --version answer with exit 0 without reading settings', () => {
    expect(decideStartup(input(['--help'], never))).toEqual({
      run: false,
      code: 0,
      stdout: 'speaker settings\n',
      stderr: [],
    });
    expect(decideStartup(input(['--version'], never))).toEqual({
      run: false,
      code: 0,
      stdout: '1.2.3\n',
      stderr: [],
    });
  });

  it('invalid settings: one JSON error line per error, exit 2', () => {
    const d = decideStartup(
      input([], () => ({ ok: false, errors: ['LOG_LEVEL "loud" is bad', 'NODE_NAME is required'] })),
    );
    expect(d.run).toBe(false);
    if (d.run) return;
    expect(d.code).toBe(2);
    expect(d.stderr.map((l) => JSON.parse(l) as unknown)).toEqual([
      {
        ts: '2026-01-02T03:04:05.000Z',
        level: 'error',
        component: 'speaker',
        msg: 'invalid settings',
        error: 'LOG_LEVEL "loud" is bad',
      },
      {
        ts: '2026-01-02T03:04:05.000Z',
        level: 'error',
        component: 'speaker',
        msg: 'invalid settings',
        error: 'NODE_NAME is required',
      },
    ]);
  });

  it('an unknown argument is refused with exit 2', () => {
    const d = decideStartup(input(['--kubeconfig=x'], never));
    expect(d).toMatchObject({ run: false, code: 2 });
    if (!d.run) expect(d.stderr[0]).toContain('unknown argument \\"--kubeconfig=x\\"');
  });

  it('valid settings run', () => {
    expect(decideStartup(input([], () => ({ ok: true, value: { port: 7472 } })))).toEqual({
      run: true,
      settings: { port: 7472 },
    });
  });

  it('packageVersion reads the version of a package.json', () => {
    expect(packageVersion(new URL('../package.json', import.meta.url))).toMatch(/^\d+\.\d+\.\d+/);
  });
});
