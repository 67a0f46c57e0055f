import { describe, expect, it } from '@jest/globals';
import {
  ALL_SETTINGS,
  CONTROLLER_SETTINGS,
  DEFAULT_INTERFACE_EXCLUDE,
  OPERATOR_SETTINGS,
  readSettings,
  settingsHelp,
  settingsProcessEnv,
  SPEAKER_SETTINGS,
  type Setting,
} from '../src/settings.js';

const defsOf = (spec: (typeof ALL_SETTINGS)[number]) => Object.values(spec.defs) as Setting<unknown>[];
/** Each binary's settings reader and help, by component (each spec keeps its own value types). */
const reader = {
  controller: (env: Record<string, string>) => readSettings(CONTROLLER_SETTINGS, env),
  speaker: (env: Record<string, string>) => readSettings(SPEAKER_SETTINGS, env),
  operator: (env: Record<string, string>) => readSettings(OPERATOR_SETTINGS, env),
};
const help = {
  controller: () => settingsHelp(CONTROLLER_SETTINGS),
  speaker: () => settingsHelp(SPEAKER_SETTINGS),
  operator: () => settingsHelp(OPERATOR_SETTINGS),
};
/** RegExps compare by source, everything else by value. */
const plain = (v: unknown): unknown =>
  Array.isArray(v) ? v.map(plain) : v instanceof RegExp ? `/${v.source}/` : v;

describe('readSettings', () => {
  it('gives the defaults when nothing is set (speaker: only NODE_NAME is required)', () => {
    const c = readSettings(CONTROLLER_SETTINGS, {});
    expect(c).toEqual({
      ok: true,
      value: {
        namespace: 'metallb-system',
        metricsHost: '0.0.0.0',
        metricsPort: 7472,
        logLevel: 'info',
        loadBalancerClass: undefined,
        podName: '',
      },
    });
    const s = readSettings(SPEAKER_SETTINGS, { NODE_NAME: 'node-a', METRICS_PORT: '' });
    if (!s.ok) throw new Error(s.errors.join('; '));
    expect(s.value).toMatchObject({
      nodeName: 'node-a',
      metricsPort: 7472,
      membershipRenewMs: 1000,
      membershipLeaseMs: 3000,
      announceBurstMs: [0, 200, 500, 1000, 2000, 3000, 5000],
      announceRefreshMs: 30_000,
      ignoreExcludeLb: false,
      loadBalancerClass: undefined,
    });
    expect(s.value.interfaceExclude.map((r) => r.source)).toEqual(DEFAULT_INTERFACE_EXCLUDE);
  });

  it('refuses a speaker without NODE_NAME, naming the variable and what it is', () => {
    expect(readSettings(SPEAKER_SETTINGS, {})).toEqual({
      ok: false,
      errors: ['NODE_NAME is required: the Node this speaker runs on'],
    });
  });

  it('maps MetalLB\'s "all" to debug, case-insensitively', () => {
    const r = readSettings(CONTROLLER_SETTINGS, { LOG_LEVEL: 'ALL' });
    expect(r.ok && r.value.logLevel).toBe('debug');
  });

  // Each: a bad value and the reason its error must give.
  const bad: Array<[component: keyof typeof reader, env: string, value: string, reason: string]> = [
    ['controller', 'LOG_LEVEL', 'loud', 'is not one of all, debug, info, warn, error, none'],
    ['controller', 'METRICS_PORT', '70000', 'is not a whole number in 0-65535'],
    ['controller', 'METRICS_PORT', 'http', 'is not a whole number in 0-65535'],
    ['speaker', 'METALLB_INTERFACE_EXCLUDE', '^ok$,(broken', '"(broken" is not a regular expression'],
    ['speaker', 'MEMBERSHIP_RENEW_MS', '0', 'is not a whole number in 1-3600000'],
    ['speaker', 'MEMBERSHIP_LEASE_MS', '1.5', 'is not a whole number in 1-3600000'],
    ['speaker', 'ANNOUNCE_BURST_MS', '0,soon', '"soon" is not a delay in whole milliseconds'],
    ['speaker', 'ANNOUNCE_BURST_MS', '0,,100', '"" is not a delay in whole milliseconds'],
    ['speaker', 'ANNOUNCE_REFRESH_MS', '10', 'is below 1000'],
    ['speaker', 'ANNOUNCE_REFRESH_MS', '-1', 'must be whole milliseconds >= 0'],
    ['speaker', 'IGNORE_EXCLUDE_LB', 'yes', 'is not true or false'],
    ['operator', 'WEBHOOK_PORT', '-443', 'is not a whole number in 0-65535'],
  ];
  it.each(bad)('%#: names the variable, the value and why (%s %s)', (spec, env, value, reason) => {
    const r = reader[spec]({ NODE_NAME: 'node-a', [env]: value });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toContain(`${env} "${value}" `);
    expect(r.errors[0]).toContain(reason);
  });

  it('reports every error at once', () => {
    const r = readSettings(SPEAKER_SETTINGS, { LOG_LEVEL: 'loud', METRICS_PORT: 'x' });
    expect(r.ok || r.errors.map((e) => e.split(' ')[0])).toEqual(['METRICS_PORT', 'LOG_LEVEL', 'NODE_NAME']);
  });

  it('checks the membership lease against the renewal: it must be at least twice as long', () => {
    const r = readSettings(SPEAKER_SETTINGS, {
      NODE_NAME: 'node-a',
      MEMBERSHIP_RENEW_MS: '1000',
      MEMBERSHIP_LEASE_MS: '1500',
    });
    expect(r).toEqual({
      ok: false,
      errors: [
        expect.stringContaining(
          'MEMBERSHIP_LEASE_MS (1500) must be at least twice MEMBERSHIP_RENEW_MS (1000)',
        ),
      ],
    });
    const fine = readSettings(SPEAKER_SETTINGS, {
      NODE_NAME: 'node-a',
      MEMBERSHIP_RENEW_MS: '1000',
      MEMBERSHIP_LEASE_MS: '2000',
    });
    expect(fine.ok).toBe(true);
  });
});

describe('format and parse', () => {
  it.each(ALL_SETTINGS.flatMap((spec) => defsOf(spec).map((def) => [spec.component, def.env, def] as const)))(
    '%s %s: parse(format(default)) gives the default back',
    (_component, _env, def) => {
      if (def.default === undefined || def.format(def.default) === '') return; // nothing to write
      const back = def.parse(def.format(def.default));
      expect(back.ok).toBe(true);
      if (back.ok) expect(plain(back.value)).toEqual(plain(def.default));
    },
  );

  it('a process environment rendered from values reads back as those values', () => {
    const values = {
      namespace: 'lb',
      metricsPort: 9000,
      logLevel: 'warn' as const,
      nodeName: 'node-z',
      interfaceExclude: [/^mgmt.*/, /^eth9$/],
      membershipRenewMs: 400,
      membershipLeaseMs: 1200,
      announceBurstMs: [0, 50],
      announceRefreshMs: 0,
      ignoreExcludeLb: true,
      loadBalancerClass: 'example.org/lb',
    };
    const r = readSettings(SPEAKER_SETTINGS, settingsProcessEnv(SPEAKER_SETTINGS, values));
    if (!r.ok) throw new Error(r.errors.join('; '));
    expect(r.value.metricsHost).toBe('0.0.0.0');
    for (const [key, v] of Object.entries(values))
      expect(plain((r.value as Record<string, unknown>)[key])).toEqual(plain(v));
  });
});

describe('settingsHelp', () => {
  it.each(ALL_SETTINGS.map((spec) => [spec.component, spec] as const))(
    '%s: lists every variable with its default and meaning',
    (_component, spec) => {
      const text = help[spec.component]();
      const lines = text.split('\n');
      for (const def of defsOf(spec)) {
        const line = lines.find((l) => l.trimStart().startsWith(`${def.env} `));
        expect(line).toBeDefined();
        expect(line).toContain(def.doc);
        const shown = def.docDefault ?? (def.default === undefined ? 'unset' : def.format(def.default));
        if (shown !== '') expect(line).toContain(shown);
      }
      expect(text).toContain('--version');
    },
  );
});
