// The start of every binary before it touches anything: `--help` and `--version` answer and exit
// 0, settings that do not parse exit 2 with one JSON line per error, anything else runs.
import { readFileSync } from 'node:fs';

export type SettingsResult<V> = { ok: true; value: V } | { ok: false; errors: readonly string[] };

export interface StartupInput<V> {
  /** Logger `component` field of the error lines. */
  component: string;
  /** Command-line arguments after the script (`process.argv.slice(2)`). */
  args: readonly string[];
  version: string;
  /** The settings documentation (`--help`). */
  help: () => string;
  /** Parses the settings; only called when the binary is to run. */
  read: () => SettingsResult<V>;
  /** Timestamp of the error lines. */
  now?: () => Date;
}

export type StartupDecision<V> =
  { run: true; settings: V } | { run: false; code: number; stdout: string; stderr: string[] };

/** What a binary does with its arguments and environment (pure). */
export function decideStartup<V>(input: StartupInput<V>): StartupDecision<V> {
  const errorLine = (error: string): string =>
    JSON.stringify({
      ts: (input.now ?? (() => new Date()))().toISOString(),
      level: 'error',
      component: input.component,
      msg: 'invalid settings',
      error,
    });
  const [first, ...rest] = input.args;
  if (first === '--help' || first === '-h') return { run: false, code: 0, stdout: input.help(), stderr: [] };
  if (first === '--version') return { run: false, code: 0, stdout: `${input.version}\n`, stderr: [] };
  if (first !== undefined || rest.length > 0) {
    return {
      run: false,
      code: 2,
      stdout: '',
      stderr: [errorLine(`unknown argument "${first}": settings come from the environment (see --help)`)],
    };
  }
  const settings = input.read();
  if (!settings.ok) return { run: false, code: 2, stdout: '', stderr: settings.errors.map(errorLine) };
  return { run: true, settings: settings.value };
}

/** `decideStartup` carried out: prints and exits, or returns the settings. */
export function startupSettings<V>(input: StartupInput<V>): V {
  const d = decideStartup(input);
  if (d.run) return d.settings;
  if (d.stdout) process.stdout.write(d.stdout);
  for (const line of d.stderr) process.stderr.write(`${line}\n`);
  process.exit(d.code);
}

/** The `version` of the package.json at `url` (e.g. `new URL('../package.json', import.meta.url)`). */
// A bundled binary has no package.json beside it: the bundler writes the version in as this
// constant (esbuild `define`); unbundled, the identifier is undeclared and `typeof` says so.
declare const METALLB_TS_VERSION: string | undefined;

export function packageVersion(url: URL): string {
  if (typeof METALLB_TS_VERSION === 'string') return METALLB_TS_VERSION;
  return (JSON.parse(readFileSync(url, 'utf8')) as { version?: string }).version ?? 'unknown';
}
