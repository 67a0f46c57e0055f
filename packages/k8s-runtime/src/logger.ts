import { isKubeError } from './kube-error.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'none';

const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, none: 100 };

export interface Logger {
  readonly component: string;
  readonly level: LogLevel;
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /** A logger that adds `fields` to every line it writes (e.g. `{ key: 'ns/name' }`). */
  child(fields: Record<string, unknown>): Logger;
  /** Whether a line at `level` would be written; lets callers skip building costly fields. */
  enabled(level: Exclude<LogLevel, 'none'>): boolean;
}

export interface LoggerOptions {
  component: string;
  level?: LogLevel;
  /** Where lines go; defaults to stdout. Each call receives one complete line ending in "\n". */
  write?: (line: string) => void;
  /** Clock for the `ts` field; defaults to the wall clock. */
  now?: () => Date;
}

/**
 * MetalLB's `logLevel` accepts `all`, which means "everything"; map it (and unknown strings) to
 * one of ours so flags and CR fields can be passed straight through.
 */
export function parseLogLevel(value: string | undefined, fallback: LogLevel = 'info'): LogLevel {
  switch (value?.toLowerCase()) {
    case 'all':
    case 'debug':
      return 'debug';
    case 'info':
      return 'info';
    case 'warn':
    case 'warning':
      return 'warn';
    case 'error':
      return 'error';
    case 'none':
      return 'none';
    default:
      return fallback;
  }
}

/** Turns an error (or anything thrown) into plain JSON, keeping the API status body of a KubeError. */
export function serializeError(err: unknown): Record<string, unknown> {
  if (isKubeError(err)) {
    const out: Record<string, unknown> = {
      message: err.message,
      status: err.status,
      reason: err.reason,
    };
    if (err.body !== undefined) out['body'] = err.body;
    return out;
  }
  if (err instanceof Error) {
    const out: Record<string, unknown> = { name: err.name, message: err.message };
    const code = (err as { code?: unknown }).code;
    if (code !== undefined) out['code'] = code;
    if (err.cause !== undefined) out['cause'] = serializeError(err.cause);
    return out;
  }
  return { message: String(err) };
}

function jsonReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) return serializeError(value);
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Set) return [...value];
  if (value instanceof Map) return Object.fromEntries(value);
  return value;
}

const reserved = new Set(['ts', 'level', 'component', 'msg']);

export function createLogger(opts: LoggerOptions): Logger {
  const write = opts.write ?? ((line: string) => void process.stdout.write(line));
  const now = opts.now ?? (() => new Date());
  return makeLogger(opts.component, opts.level ?? 'info', {}, write, now);
}

function makeLogger(
  component: string,
  level: LogLevel,
  bound: Record<string, unknown>,
  write: (line: string) => void,
  now: () => Date,
): Logger {
  const threshold = rank[level];
  const emit = (lvl: Exclude<LogLevel, 'none'>, msg: string, fields?: Record<string, unknown>): void => {
    if (rank[lvl] < threshold) return;
    const record: Record<string, unknown> = { ts: now().toISOString(), level: lvl, component, msg };
    for (const src of [bound, fields]) {
      if (!src) continue;
      for (const [k, v] of Object.entries(src)) {
        // The four core keys always describe the line itself; a field that collides keeps its value under another name.
        record[reserved.has(k) ? `field.${k}` : k] = v;
      }
    }
    let line: string;
    try {
      line = JSON.stringify(record, jsonReplacer);
    } catch (e) {
      // Circular structures must not take the process down; log what we can.
      line = JSON.stringify({
        ts: record['ts'],
        level: lvl,
        component,
        msg,
        logError: `fields not serialisable: ${(e as Error).message}`,
      });
    }
    write(line + '\n');
  };
  return {
    component,
    level,
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => makeLogger(component, level, { ...bound, ...fields }, write, now),
    enabled: (lvl) => rank[lvl] >= threshold,
  };
}

/** A logger that drops everything; the default where a logger is optional. */
export const silentLogger: Logger = createLogger({ component: 'silent', level: 'none', write: () => {} });
