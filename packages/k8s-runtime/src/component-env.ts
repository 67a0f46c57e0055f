import type { LogLevel } from './logger.js';

/** Success or a message naming the variable, its value and why it is wrong. */
type Result<T> = { ok: true; value: T } | { ok: false; error: string };

const LEVELS: LogLevel[] = ['debug', 'info', 'warn', 'error', 'none'];

/** Settings shared by every component, read from the environment. */
export interface CommonEnv {
  namespace: string;
  metricsHost: string;
  metricsPort: number;
  logLevel: LogLevel;
}

export function readCommonEnv(env: NodeJS.ProcessEnv): Result<CommonEnv> {
  const port = Number(env.METRICS_PORT ?? '7472');
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    return { ok: false, error: `METRICS_PORT "${env.METRICS_PORT}" is not a port number (0-65535)` };
  }
  const level = (env.LOG_LEVEL ?? 'info').toLowerCase();
  // MetalLB's CR says "all" for the most verbose level.
  const logLevel = (level === 'all' ? 'debug' : level) as LogLevel;
  if (!LEVELS.includes(logLevel))
    return { ok: false, error: `LOG_LEVEL "${env.LOG_LEVEL}" is not one of all, ${LEVELS.join(', ')}` };
  return {
    ok: true,
    value: {
      namespace: env.METALLB_NAMESPACE || 'metallb-system',
      metricsHost: env.METRICS_HOST || '0.0.0.0',
      metricsPort: port,
      logLevel,
    },
  };
}
