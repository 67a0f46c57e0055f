// Shared bits of the runtime integration tests: a Kube on the lab's admin kubeconfig, a logger
// that keeps its lines for assertions, a poll helper and a per-test namespace.
import {
  connect,
  createLogger,
  isNotFound,
  type Kube,
  type KubeObject,
  type Logger,
} from '@metallb-ts/k8s-runtime';
import { waitFor } from '../../src/wait-for.js';

export function adminKubeconfig(): string {
  const path = process.env.METALLB_TS_ADMIN_KUBECONFIG;
  if (!path)
    throw new Error('METALLB_TS_ADMIN_KUBECONFIG is not set: run through pnpm test:e2e (jest global set-up)');
  return path;
}

export interface CapturedLogger {
  logger: Logger;
  lines: Array<Record<string, unknown>>;
}

/** A debug logger whose lines are parsed and kept; printed on demand when a test fails. */
export function captureLogger(component: string): CapturedLogger {
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger({
    component,
    level: 'debug',
    write: (l) => lines.push(JSON.parse(l) as Record<string, unknown>),
  });
  return { logger, lines };
}

export function kube(logger?: Logger): Kube {
  return connect({ kubeconfig: adminKubeconfig(), logger });
}

/** Polls `cond` until it is true; fails with `what` (and the optional detail) after `timeoutMs`. */
export async function eventually(
  cond: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 20_000,
  detail?: () => unknown,
): Promise<void> {
  await waitFor(
    what,
    async () =>
      (await cond()) ? { done: true, value: undefined } : { done: false, observed: detail?.() ?? 'not yet' },
    { timeoutMs, intervalMs: 50 },
  );
}

/**
 * A test file's admin Kube and namespace of its own (`prefix`-…), for its beforeAll; its afterAll
 * hands both to `closeTestNamespace`.
 */
export async function openTestNamespace(prefix: string): Promise<{ k: Kube; ns: string }> {
  const k = kube();
  return { k, ns: await createNamespace(k, prefix) };
}

/** Deletes the namespace of `openTestNamespace`, then closes its Kube. */
export async function closeTestNamespace(k: Kube, ns: string): Promise<void> {
  await deleteNamespace(k, ns);
  k.close();
}

export async function createNamespace(k: Kube, prefix: string): Promise<string> {
  const name = `${prefix}-${Date.now().toString(36)}`;
  await k.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  return name;
}

export async function deleteNamespace(k: Kube, name: string): Promise<void> {
  try {
    await k.delete({ apiVersion: 'v1', kind: 'Namespace', name });
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
}

export const configMap = (namespace: string, name: string, data: Record<string, string> = {}) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { namespace, name },
  data,
});

/** The names of `objects`, sorted: what a cache holds, to compare with what the server lists. */
export const sortedNames = (objects: readonly KubeObject[]): (string | undefined)[] =>
  objects.map((o) => o.metadata?.name).sort();

export const configMapRef = (namespace: string, name?: string) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  namespace,
  name,
});
