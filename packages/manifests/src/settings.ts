// Each binary's settings, written once: the environment variable, its default, how it is parsed
// and the line that documents it. The binary parses its environment with `readSettings`, the
// renderers write the same definitions into the pod spec with `settingsEnv`, the lab starts its
// processes with `settingsEnv`, and the README's configuration table is `settingsTable`.
import { COMPONENTS, DEFAULT_NAMESPACE, MEMBERLIST, METRICS_PORT, type ComponentName } from './names.js';

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

/** Where a pod takes a value from instead of a literal (`valueFrom.fieldRef.fieldPath`). */
export type FieldPath = 'metadata.name' | 'metadata.namespace' | 'spec.nodeName' | 'status.podIP';

export interface Setting<T> {
  readonly env: string;
  /** One line for the README table and the pod spec's documentation. */
  readonly doc: string;
  /** Used when the variable is unset or empty. `undefined` with `required` means the binary refuses to start. */
  readonly default: T;
  /** How the default reads in the docs (e.g. "MetalLB's list"). Defaults to `format(default)`. */
  readonly docDefault?: string;
  readonly required?: boolean;
  /** In a pod the value comes from this field (the renderer writes `valueFrom.fieldRef`). */
  readonly fromField?: FieldPath;
  /** Parses a non-empty raw value; the error says why, without repeating the name or value. */
  parse(raw: string): Parsed<T>;
  /** The environment text for a value (`parse(format(v))` gives `v` back). */
  format(value: T): string;
}

/** A binary's settings: property name -> definition. */
export type SettingDefs = Record<string, Setting<unknown>>;
/** The parsed values of a set of definitions. */
export type SettingValues<D extends SettingDefs> = {
  [K in keyof D]: D[K] extends Setting<infer T> ? T : never;
};

export interface SettingsSpec<D extends SettingDefs> {
  readonly component: ComponentName;
  readonly defs: D;
  /** Checks across settings (e.g. lease longer than renew); returns an error or undefined. */
  readonly check?: (v: SettingValues<D>) => string | undefined;
}

// ---- parsers ---------------------------------------------------------------------------------

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const bad = <T>(error: string): Parsed<T> => ({ ok: false, error });

function text(env: string, doc: string, def: string, extra: Partial<Setting<string>> = {}): Setting<string> {
  return { env, doc, default: def, parse: (raw) => ok(raw), format: (v) => v, ...extra };
}

function optionalText(env: string, doc: string): Setting<string | undefined> {
  return {
    env,
    doc,
    default: undefined,
    docDefault: 'unset',
    parse: (raw) => ok(raw),
    format: (v) => v ?? '',
  };
}

function integer(env: string, doc: string, def: number, min: number, max: number): Setting<number> {
  return {
    env,
    doc,
    default: def,
    parse: (raw) => {
      const n = Number(raw);
      return Number.isInteger(n) && n >= min && n <= max
        ? ok(n)
        : bad(`is not a whole number in ${min}-${max}`);
    },
    format: String,
  };
}

function boolean(env: string, doc: string, def: boolean): Setting<boolean> {
  return {
    env,
    doc,
    default: def,
    parse: (raw) => (raw === 'true' ? ok(true) : raw === 'false' ? ok(false) : bad('is not true or false')),
    format: String,
  };
}

function millisList(env: string, doc: string, def: readonly number[]): Setting<readonly number[]> {
  return {
    env,
    doc,
    default: def,
    parse: (raw) => {
      const parts = raw.split(',').map((p) => p.trim());
      const values = parts.map(Number);
      const i = parts.findIndex(
        (p, k) => p === '' || !Number.isInteger(values[k]) || values[k]! < 0 || values[k]! > 600_000,
      );
      return i >= 0 ? bad(`"${parts[i]}" is not a delay in whole milliseconds (0-600000)`) : ok(values);
    },
    format: (v) => v.join(','),
  };
}

/** How speakers learn who is alive (`MEMBERSHIP`). */
export type MembershipKind = 'gossip' | 'lease';

/** Log levels every binary accepts; MetalLB's CR says `all` for the most verbose. */
export const LOG_LEVELS = ['all', 'debug', 'info', 'warn', 'error', 'none'] as const;
export type SettingLogLevel = 'debug' | 'info' | 'warn' | 'error' | 'none';

const logLevel: Setting<SettingLogLevel> = {
  env: 'LOG_LEVEL',
  doc: '`all`/`debug`, `info`, `warn`, `error`, `none` (JSON lines)',
  default: 'info',
  parse: (raw) => {
    const l = raw.toLowerCase();
    if (!(LOG_LEVELS as readonly string[]).includes(l)) return bad(`is not one of ${LOG_LEVELS.join(', ')}`);
    return ok((l === 'all' ? 'debug' : l) as SettingLogLevel);
  },
  format: (v) => v,
};

/** MetalLB's default list of interfaces never answered on. */
export const DEFAULT_INTERFACE_EXCLUDE: readonly string[] = [
  '^docker.*',
  '^cbr.*',
  '^dummy.*',
  '^virbr.*',
  '^lxcbr.*',
  '^veth.*',
  '^lo$',
  '^cali.*',
  '^tunl.*',
  '^flannel.*',
  '^kube-ipvs.*',
  '^cni.*',
  '^nodelocaldns.*',
  '^lxc.*',
];

const interfaceExclude: Setting<readonly RegExp[]> = {
  env: 'METALLB_INTERFACE_EXCLUDE',
  doc: 'comma-separated regexes of interfaces never answered on',
  default: DEFAULT_INTERFACE_EXCLUDE.map((s) => new RegExp(s)),
  docDefault: "MetalLB's list",
  parse: (raw) => {
    const out: RegExp[] = [];
    for (const item of raw
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '')) {
      try {
        out.push(new RegExp(item));
      } catch (e) {
        return bad(`"${item}" is not a regular expression: ${(e as Error).message}`);
      }
    }
    return ok(out);
  },
  format: (v) => v.map((r) => r.source).join(','),
};

// ---- the definitions -------------------------------------------------------------------------

/** What every binary reads. */
export const COMMON_SETTINGS = {
  namespace: text(
    'METALLB_NAMESPACE',
    'where pools, advertisements, leases and the MetalLB resource live',
    DEFAULT_NAMESPACE,
    {
      fromField: 'metadata.namespace',
    },
  ),
  metricsHost: text('METRICS_HOST', 'address of `/metrics`, `/healthz`, `/readyz`', '0.0.0.0'),
  metricsPort: integer('METRICS_PORT', 'port of `/metrics`, `/healthz`, `/readyz`', METRICS_PORT, 0, 65535),
  logLevel,
} satisfies SettingDefs;

/** Keeps the exact definitions' types (so `check` and `readSettings` see each value's type). */
export const defineSettings = <D extends SettingDefs>(spec: SettingsSpec<D>): SettingsSpec<D> => spec;

export const CONTROLLER_SETTINGS = defineSettings({
  component: 'controller',
  defs: {
    ...COMMON_SETTINGS,
    loadBalancerClass: optionalText(
      'LOAD_BALANCER_CLASS',
      'handle only Services of this class (unset: only Services without one)',
    ),
    podName: text('POD_NAME', 'identity in the leader election Lease', '', {
      fromField: 'metadata.name',
      docDefault: 'host name and PID',
    }),
  },
});

export const SPEAKER_SETTINGS = defineSettings({
  component: 'speaker',
  defs: {
    ...COMMON_SETTINGS,
    nodeName: text('NODE_NAME', 'the Node this speaker runs on', '', {
      required: true,
      fromField: 'spec.nodeName',
      docDefault: 'required',
    }),
    interfaceExclude,
    membership: {
      env: 'MEMBERSHIP',
      doc: 'how speakers learn who is alive: `gossip` (UDP, authenticated, no API writes) or `lease` (one Lease per speaker, renewed every MEMBERSHIP_RENEW_MS)',
      default: 'gossip' as MembershipKind,
      parse: (raw: string): Parsed<MembershipKind> =>
        raw === 'gossip' || raw === 'lease' ? ok(raw) : bad('is not gossip or lease'),
      format: (v: MembershipKind) => v,
    },
    memberlistPort: integer(
      'MEMBERLIST_PORT',
      'UDP port of the gossip membership, the same on every node',
      MEMBERLIST.port,
      1,
      65535,
    ),
    memberlistBindAddress: text(
      'MEMBERLIST_BIND_ADDRESS',
      'local address the gossip socket binds (an IPv6 address binds a udp6 socket)',
      '0.0.0.0',
    ),
    memberlistSecret: text(
      'MEMBERLIST_SECRET',
      `Secret (in the install namespace) with the gossip key in \`${MEMBERLIST.key}\` and, during a rotation, \`${MEMBERLIST.secondaryKey}\``,
      MEMBERLIST.secret,
    ),
    membershipRenewMs: integer(
      'MEMBERSHIP_RENEW_MS',
      'membership lease renewal (ms; MEMBERSHIP=lease)',
      1000,
      1,
      3_600_000,
    ),
    membershipLeaseMs: integer(
      'MEMBERSHIP_LEASE_MS',
      'membership lease expiry (ms; MEMBERSHIP=lease)',
      3000,
      1,
      3_600_000,
    ),
    announceBurstMs: millisList(
      'ANNOUNCE_BURST_MS',
      'gratuitous ARP / unsolicited NA burst after takeover (ms)',
      [0, 200, 500, 1000, 2000, 3000, 5000],
    ),
    announceRefreshMs: {
      ...integer(
        'ANNOUNCE_REFRESH_MS',
        're-announce while holding an address (0 = never; MetalLB stops after 5 s)',
        30_000,
        0,
        86_400_000,
      ),
      parse: (raw: string): Parsed<number> => {
        const n = Number(raw);
        if (!Number.isInteger(n) || n < 0) return bad('must be whole milliseconds >= 0 (0 = no refresh)');
        if (n > 0 && n < 1000)
          return bad('is below 1000: that floods the segment; use 0 to turn the refresh off');
        return ok(n);
      },
    },
    ignoreExcludeLb: boolean(
      'IGNORE_EXCLUDE_LB',
      'ignore `node.kubernetes.io/exclude-from-external-load-balancers`',
      false,
    ),
    loadBalancerClass: optionalText(
      'LOAD_BALANCER_CLASS',
      'announce only Services of this class (set it as on the controller)',
    ),
    podName: text(
      'POD_NAME',
      'its Pod, which owns the ServiceL2Status objects it writes (deleting the Pod deletes them)',
      '',
      { fromField: 'metadata.name', docDefault: 'unset: they have no owner' },
    ),
  },
  check: (v) =>
    v.membershipLeaseMs < 2 * v.membershipRenewMs
      ? `MEMBERSHIP_LEASE_MS (${v.membershipLeaseMs}) must be at least twice MEMBERSHIP_RENEW_MS (${v.membershipRenewMs}), or one late renewal looks like a death`
      : undefined,
});

export const OPERATOR_SETTINGS = defineSettings({
  component: 'operator',
  defs: {
    ...COMMON_SETTINGS,
    podName: text('POD_NAME', 'identity in the leader election Lease', '', {
      fromField: 'metadata.name',
      docDefault: 'host name and PID',
    }),
    controllerImage: text(
      'CONTROLLER_IMAGE',
      'image of the controller Deployment it deploys',
      'metallb-ts/controller:dev',
    ),
    speakerImage: text(
      'SPEAKER_IMAGE',
      'image of the speaker DaemonSet it deploys',
      'metallb-ts/speaker:dev',
    ),
    webhookPort: integer('WEBHOOK_PORT', 'port of the validating admission webhook (HTTPS)', 9443, 0, 65535),
  },
});

/** All binaries' settings, for the README table and the "every variable is rendered" test. */
export const ALL_SETTINGS = [OPERATOR_SETTINGS, CONTROLLER_SETTINGS, SPEAKER_SETTINGS] as const;

// ---- reading, rendering, documenting ----------------------------------------------------------

/**
 * Parses a binary's environment. Unset or empty means the default; every error names the
 * variable, its value and why, and all errors are reported at once.
 */
export function readSettings<D extends SettingDefs>(
  spec: SettingsSpec<D>,
  env: Readonly<Record<string, string | undefined>>,
): { ok: true; value: SettingValues<D> } | { ok: false; errors: string[] } {
  const errors: string[] = [];
  const out: Record<string, unknown> = {};
  for (const [key, def] of Object.entries(spec.defs)) {
    const raw = env[def.env];
    if (raw === undefined || raw === '') {
      if (def.required) errors.push(`${def.env} is required: ${def.doc}`);
      out[key] = def.default;
      continue;
    }
    const parsed = def.parse(raw);
    if (parsed.ok) out[key] = parsed.value;
    else errors.push(`${def.env} "${raw}" ${parsed.error}`);
  }
  if (errors.length > 0) return { ok: false, errors };
  const value = out as SettingValues<D>;
  const crossError = spec.check?.(value);
  return crossError ? { ok: false, errors: [crossError] } : { ok: true, value };
}

/** One container environment entry. */
export type EnvVar =
  { name: string; value: string } | { name: string; valueFrom: { fieldRef: { fieldPath: FieldPath } } };

/**
 * The environment of a binary in a pod: every setting, in definition order, from `values` when
 * given, else from the pod field it comes from, else its default. So every variable a binary
 * reads is visible in its pod spec.
 */
export function settingsEnv<D extends SettingDefs>(
  spec: SettingsSpec<D>,
  values: Partial<SettingValues<D>> = {},
  opts: { fieldRefs?: boolean } = {},
): EnvVar[] {
  const fieldRefs = opts.fieldRefs ?? true;
  return Object.entries(spec.defs).map(([key, def]): EnvVar => {
    const given = (values as Record<string, unknown>)[key];
    if (given !== undefined) return { name: def.env, value: def.format(given) };
    if (def.fromField && fieldRefs)
      return { name: def.env, valueFrom: { fieldRef: { fieldPath: def.fromField } } };
    return { name: def.env, value: def.default === undefined ? '' : def.format(def.default) };
  });
}

/**
 * The same as a process environment (the lab runs binaries as processes): every setting with a
 * literal value; settings that come from pod fields and have no value given are left out.
 */
export function settingsProcessEnv<D extends SettingDefs>(
  spec: SettingsSpec<D>,
  values: Partial<SettingValues<D>> = {},
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of settingsEnv(spec, values, { fieldRefs: false }))
    if ('value' in e && e.value !== '') out[e.name] = e.value;
  return out;
}

/** The README's configuration table (Markdown), one row per variable and the binaries that read it. */
export function settingsTable(): string {
  const rows = new Map<string, { components: ComponentName[]; def: Setting<unknown> }>();
  for (const spec of ALL_SETTINGS) {
    for (const def of Object.values(spec.defs) as Setting<unknown>[]) {
      const key = `${def.env}\u0000${def.doc}`;
      const row = rows.get(key) ?? { components: [], def };
      row.components.push(spec.component);
      rows.set(key, row);
    }
  }
  const lines = ['| variable | component | default | meaning |', '| --- | --- | --- | --- |'];
  for (const { components, def } of rows.values()) {
    const d = defaultText(def);
    const shown = d.literal ? `\`${d.text}\`` : d.text;
    const who = components.length === ALL_SETTINGS.length ? 'all' : components.join(', ');
    lines.push(`| \`${def.env}\` | ${who} | ${shown} | ${def.doc} |`);
  }
  return lines.join('\n') + '\n';
}

/** How a setting's default reads: the documented words, or the literal value. */
function defaultText(def: Setting<unknown>): { text: string; literal: boolean } {
  if (def.docDefault !== undefined) return { text: def.docDefault, literal: false };
  if (def.default === undefined) return { text: 'unset', literal: false };
  return { text: def.format(def.default), literal: true };
}

/** A binary's `--help`: every variable it reads, its default and what it means. */
export function settingsHelp<D extends SettingDefs>(spec: SettingsSpec<D>): string {
  const rows = (Object.values(spec.defs) as Setting<unknown>[]).map((def) => {
    const d = defaultText(def);
    return [def.env, d.literal ? (d.text === '' ? '""' : d.text) : `(${d.text})`, def.doc] as const;
  });
  const width = (i: 0 | 1) => Math.max(...rows.map((r) => r[i].length), i === 0 ? 8 : 7);
  const line = (r: readonly [string, string, string]) =>
    `  ${r[0].padEnd(width(0))}  ${r[1].padEnd(width(1))}  ${r[2]}`.trimEnd();
  return [
    `metallb-ts ${spec.component}: every setting comes from an environment variable; unset or empty means the default.`,
    '',
    line(['VARIABLE', 'DEFAULT', 'MEANING']),
    ...rows.map(line),
    '',
    'Options: --help (this text), --version.',
    '',
  ].join('\n');
}

/** Names every binary's ServiceAccount uses, re-exported for callers that hold only a spec. */
export const componentNamesOf = (spec: { component: ComponentName }) => COMPONENTS[spec.component];
