// `/metrics`, `/healthz` and `/readyz` on plain node:http: three GET routes need no framework, and
// one costs ~11 MiB of resident memory in every component.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
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
  /** Listens; resolves with the bound address. */
  start(): Promise<{ host: string; port: number }>;
  close(): Promise<void>;
}

/** One check's result; `name` is absent for a single unnamed check. */
export interface CheckResult {
  readonly name?: string;
  readonly ok: boolean;
  readonly reason?: string;
}

/** Runs every check (a throwing one fails with its message). */
export async function runChecks(check: Check): Promise<CheckResult[]> {
  const entries: [string | undefined, CheckFn][] =
    typeof check === 'function' ? [[undefined, check]] : Object.entries(check);
  const results: CheckResult[] = [];
  for (const [name, fn] of entries) {
    let outcome: CheckOutcome;
    try {
      outcome = await fn();
    } catch (e) {
      outcome = { ok: false, reason: `check threw: ${(e as Error)?.message ?? String(e)}` };
    }
    const ok = typeof outcome === 'boolean' ? outcome : outcome.ok;
    const reason = ok
      ? undefined
      : typeof outcome === 'boolean'
        ? 'check failed'
        : (outcome.reason ?? 'check failed');
    results.push({
      ...(name !== undefined ? { name } : {}),
      ok,
      ...(reason !== undefined ? { reason } : {}),
    });
  }
  return results;
}

/**
 * The probe's answer. Without `verbose`: `ok`, or the first failing check as `name: reason`.
 * With it (`?verbose`, as kube-apiserver does): one `[+]name ok` / `[-]name failed: reason` line
 * per check, then the verdict.
 */
export function probeAnswer(
  probe: string,
  results: readonly CheckResult[],
  verbose: boolean,
): { status: number; body: string } {
  const failed = results.find((r) => !r.ok);
  const status = failed ? 503 : 200;
  if (!verbose) {
    if (!failed) return { status, body: 'ok' };
    const why = failed.reason ?? 'check failed';
    return { status, body: failed.name ? `${failed.name}: ${why}` : why };
  }
  const lines = results.map((r) =>
    r.ok ? `[+]${r.name ?? probe} ok` : `[-]${r.name ?? probe} failed: ${r.reason ?? 'check failed'}`,
  );
  lines.push(failed ? `${probe} check failed` : `${probe} check passed`);
  return { status, body: `${lines.join('\n')}\n` };
}

const TEXT = 'text/plain; charset=utf-8';

export function createServer(opts: ServerOptions): ProbeServer {
  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://probe');
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return send(405, TEXT, `${req.method ?? ''} is not allowed\n`);
    }
    const path = url.pathname.replace(/\/+$/, '') || '/';
    if (path === '/metrics') return send(200, opts.registry.contentType, await opts.registry.metrics());
    if (path === '/healthz' || path === '/readyz') {
      const probe = path.slice(1) as 'healthz' | 'readyz';
      const results = await runChecks(opts.checks[probe]);
      const answer = probeAnswer(probe, results, url.searchParams.has('verbose'));
      if (answer.status !== 200) opts.logger.debug(`${probe} failing`, { reason: answer.body });
      return send(answer.status, TEXT, answer.body);
    }
    send(404, TEXT, `${url.pathname} not found\n`);
  };
  const server = http.createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      opts.logger.warn('http request failed', { path: req.url, error });
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': TEXT });
      res.end(`${(error as Error)?.message ?? String(error)}\n`);
    });
  });
  return {
    start: () =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(opts.port, opts.host, () => {
          server.off('error', reject);
          const port = (server.address() as AddressInfo).port;
          opts.logger.info('http server listening', { host: opts.host, port });
          resolve({ host: opts.host, port });
        });
      }),
    close: () =>
      new Promise((resolve) => {
        if (!server.listening) return resolve();
        server.close(() => resolve());
        // Keep-alive connections (Prometheus, kubelet probes) would hold close() open.
        server.closeIdleConnections();
      }),
  };
}
