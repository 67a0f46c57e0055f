import Fastify, { type FastifyInstance, type FastifyPluginAsync } from 'fastify';
import type { Registry } from 'prom-client';
import type { Logger } from './logger.js';

/** A check passes with `true` / `{ ok: true }`; a failing one can say why. Throwing fails it too. */
export type CheckOutcome = boolean | { ok: boolean; reason?: string };
export type CheckFn = () => CheckOutcome | Promise<CheckOutcome>;
/** One check, or several named ones that must all pass. */
export type Check = CheckFn | Record<string, CheckFn>;

export interface ServerOptions {
  host: string;
  /** 0 picks a free port; `start()` returns the one bound. */
  port: number;
  registry: Registry;
  checks: { healthz: Check; readyz: Check };
  logger: Logger;
}

export interface ProbeServer {
  /** The fastify instance (use `inject` in tests). */
  readonly fastify: FastifyInstance;
  /** Listens; resolves with the bound address. */
  start(): Promise<{ host: string; port: number }>;
  close(): Promise<void>;
}

export interface ProbePluginOptions {
  registry: Registry;
  checks: { healthz: Check; readyz: Check };
  logger: Logger;
}

async function evaluate(check: Check): Promise<{ ok: true } | { ok: false; reason: string }> {
  const entries: [string | undefined, CheckFn][] =
    typeof check === 'function' ? [[undefined, check]] : Object.entries(check);
  for (const [name, fn] of entries) {
    let outcome: CheckOutcome;
    try {
      outcome = await fn();
    } catch (e) {
      outcome = { ok: false, reason: `check threw: ${(e as Error)?.message ?? String(e)}` };
    }
    const ok = typeof outcome === 'boolean' ? outcome : outcome.ok;
    if (!ok) {
      const why = typeof outcome === 'boolean' ? 'check failed' : (outcome.reason ?? 'check failed');
      return { ok: false, reason: name ? `${name}: ${why}` : why };
    }
  }
  return { ok: true };
}

/**
 * `/metrics`, `/healthz` and `/readyz` as one encapsulated fastify plugin: its routes and hooks
 * stay inside its own context, so it can be registered into a larger server under a prefix.
 */
export const probePlugin: FastifyPluginAsync<ProbePluginOptions> = async (app, opts) => {
  app.get('/metrics', async (_req, reply) => {
    const body = await opts.registry.metrics();
    return reply.type(opts.registry.contentType).send(body);
  });
  for (const name of ['healthz', 'readyz'] as const) {
    app.get(`/${name}`, async (_req, reply) => {
      const result = await evaluate(opts.checks[name]);
      if (result.ok) return reply.type('text/plain; charset=utf-8').send('ok');
      opts.logger.debug(`${name} failing`, { reason: result.reason });
      return reply.code(503).type('text/plain; charset=utf-8').send(result.reason);
    });
  }
};

export function createServer(opts: ServerOptions): ProbeServer {
  const app = Fastify({ logger: false });
  void app.register(probePlugin, { registry: opts.registry, checks: opts.checks, logger: opts.logger });
  return {
    fastify: app,
    async start() {
      await app.listen({ host: opts.host, port: opts.port });
      const addr = app.server.address();
      const port = typeof addr === 'object' && addr ? addr.port : opts.port;
      opts.logger.info('http server listening', { host: opts.host, port });
      return { host: opts.host, port };
    },
    async close() {
      await app.close();
    },
  };
}
