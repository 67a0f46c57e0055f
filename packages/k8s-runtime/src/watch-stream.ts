// One watch request read as a stream of JSON lines, bounded so that a silent or endless stream
// ends instead of serving stale data: an idle timeout (no bytes at all) and a hard limit.
import { createInterface } from 'node:readline';
import type { Discovery } from './discovery.js';
import { KubeError, kubeErrorFromStatus } from './kube-error.js';
import type { Logger } from './logger.js';
import type { KubeWatcher, WatchEventType, WatchOptions } from './ports.js';
import { networkError, parseJson, query, type Transport } from './transport.js';
import type { KubeObject, ObjectRef } from './types.js';

export class WatchStream implements KubeWatcher {
  constructor(
    private readonly transport: Pick<Transport, 'prepareStream'>,
    private readonly discovery: Pick<Discovery, 'collectionPath'>,
    private readonly logger: Logger,
  ) {}

  async watch(
    ref: ObjectRef,
    opts: WatchOptions,
    onEvent: (type: WatchEventType, obj: KubeObject) => void,
    signal?: AbortSignal,
  ): Promise<void> {
    const base = await this.discovery.collectionPath(ref);
    const q = query({
      watch: '1',
      resourceVersion: opts.resourceVersion,
      labelSelector: opts.labelSelector,
      fieldSelector: opts.fieldSelector,
      timeoutSeconds: opts.timeoutSeconds,
      allowWatchBookmarks: opts.allowWatchBookmarks === false ? undefined : 'true',
    });
    const stream = await this.transport.prepareStream(base + q);
    const operation = `WATCH ${stream.url.pathname}`;
    // The server closes the stream after timeoutSeconds, and sends bookmarks in between. A stream
    // that goes silent (server stopped, network partitioned, half-open TCP) is abandoned after
    // idleTimeoutMs so the cache relists instead of serving stale data for minutes; the hard limit
    // is a backstop for a stream that trickles but never ends.
    const hardLimitMs = ((opts.timeoutSeconds ?? 300) + 30) * 1000;
    const idleTimeoutMs = opts.idleTimeoutMs ?? 90_000;
    const timeout = (message: string) => new KubeError({ status: 0, reason: 'Timeout', message, operation });
    await new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        resolve();
        return;
      }
      let settled = false;
      const finish = (err?: KubeError): void => {
        if (settled) return;
        settled = true;
        clearTimeout(hardTimer);
        clearTimeout(idleTimer);
        signal?.removeEventListener('abort', onAbort);
        req.destroy();
        if (err) reject(err);
        else resolve();
      };
      const onAbort = (): void => finish();
      signal?.addEventListener('abort', onAbort);
      const hardTimer = setTimeout(() => finish(timeout('watch outlived its timeoutSeconds')), hardLimitMs);
      hardTimer.unref?.();
      let idleTimer: ReturnType<typeof setTimeout> | undefined;
      const stillTalking = (): void => {
        clearTimeout(idleTimer);
        idleTimer = setTimeout(() => finish(timeout(`watch silent for ${idleTimeoutMs} ms`)), idleTimeoutMs);
        idleTimer.unref?.();
      };
      // Armed from the start: a server that accepts the request and never answers is silent too.
      stillTalking();
      const req = stream.open((res) => {
        const status = res.statusCode ?? 0;
        if (status !== 200) {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            finish(kubeErrorFromStatus(status, parseJson(Buffer.concat(chunks).toString('utf8')), operation)),
          );
          res.on('error', (e) => finish(networkError(operation, e)));
          return;
        }
        // Listen on the response before readline does: readline re-emits input errors on the
        // interface, and an interface without an 'error' listener would throw them instead.
        // Any bytes count as life, even a large object that takes a while to arrive in full.
        stillTalking();
        res.on('data', () => stillTalking());
        res.on('end', () => finish());
        res.on('close', () => finish());
        res.on('error', (e) => finish(networkError(operation, e)));
        const lines = createInterface({ input: res, crlfDelay: Infinity });
        lines.on('error', (e) => finish(networkError(operation, e)));
        lines.on('close', () => finish());
        lines.on('line', (line) => {
          if (settled || line.trim() === '') return;
          let ev: { type?: string; object?: KubeObject };
          try {
            ev = JSON.parse(line) as { type?: string; object?: KubeObject };
          } catch {
            finish(
              new KubeError({
                status: 0,
                reason: 'BadWatchEvent',
                message: 'unparseable watch line',
                operation,
              }),
            );
            return;
          }
          if (ev.type === 'ERROR') {
            finish(kubeErrorFromStatus(0, ev.object, operation));
            return;
          }
          if (!ev.object || !isWatchType(ev.type)) return;
          try {
            onEvent(ev.type, ev.object);
          } catch (e) {
            this.logger.error('watch event handler threw', { error: e, operation });
          }
        });
      });
      req.on('error', (e) => finish(networkError(operation, e)));
      req.end();
    });
  }
}

function isWatchType(t: string | undefined): t is WatchEventType {
  return t === 'ADDED' || t === 'MODIFIED' || t === 'DELETED' || t === 'BOOKMARK';
}
