import { silentLogger, type Logger } from './logger.js';

/** What a handler tells the queue about one key; only the queue turns it into behaviour. */
export type SyncResult =
  | { kind: 'ok' }
  | { kind: 'retry'; error: unknown }
  | { kind: 'terminal'; error: unknown }
  | { kind: 'requeueAfter'; ms: number }
  | { kind: 'reprocessAll' };

export const SyncResult = {
  ok: (): SyncResult => ({ kind: 'ok' }),
  retry: (error: unknown): SyncResult => ({ kind: 'retry', error }),
  terminal: (error: unknown): SyncResult => ({ kind: 'terminal', error }),
  requeueAfter: (ms: number): SyncResult => ({ kind: 'requeueAfter', ms }),
  reprocessAll: (): SyncResult => ({ kind: 'reprocessAll' }),
} as const;

/** Injected timers so tests can see requested delays without waiting for them. */
export interface QueueTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realTimers: QueueTimers = {
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    // A pending retry must not keep a process alive on its own.
    t.unref?.();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

export interface WorkQueueOptions {
  name?: string;
  logger?: Logger;
  /** First retry delay; doubles per consecutive failure of the same key. Default 5 ms. */
  baseDelayMs?: number;
  /** Cap for the retry delay. Default 1000 s. */
  maxDelayMs?: number;
  timers?: QueueTimers;
  /** Called when a handler returns `reprocessAll`; usually re-adds every key from a cache. */
  onReprocessAll?: () => void;
}

export interface RunOptions {
  /** Number of keys handled at once (different keys only). Default 1. */
  concurrency?: number;
}

export type SyncHandler = (key: string) => Promise<SyncResult> | SyncResult;

/**
 * A keyed work queue with controller-runtime semantics:
 * - many adds of one key before it is picked up collapse into one;
 * - a key is never handled by two workers at once: an add while it is in flight marks it dirty
 *   and it is handled again after the current run finishes;
 * - `retry` (or a throwing handler) re-adds the key after a per-key exponential backoff which an
 *   `ok` resets; `terminal` logs and forgets; `requeueAfter` revisits later; `reprocessAll` calls
 *   the registered callback.
 */
export class WorkQueue {
  readonly name: string;
  private readonly logger: Logger;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly timers: QueueTimers;
  private reprocessAllCallback: (() => void) | undefined;

  /** Keys waiting to be handled, in order. Always a subset of `dirty`. */
  private readonly ready: string[] = [];
  private readyHead = 0;
  /** Keys that need handling (queued, or re-added while in flight). */
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  /** Delayed adds: one timer per key, the earliest deadline wins. */
  private readonly delayed = new Map<string, { at: number; handle: unknown }>();
  private readonly failures = new Map<string, number>();

  private shuttingDown = false;
  private wake: (() => void) | undefined;
  private running: Promise<void> | undefined;

  constructor(opts: WorkQueueOptions = {}) {
    this.name = opts.name ?? 'queue';
    this.logger = (opts.logger ?? silentLogger).child({ queue: this.name });
    this.baseDelayMs = opts.baseDelayMs ?? 5;
    this.maxDelayMs = opts.maxDelayMs ?? 1_000_000;
    this.timers = opts.timers ?? realTimers;
    this.reprocessAllCallback = opts.onReprocessAll;
  }

  onReprocessAll(fn: () => void): void {
    this.reprocessAllCallback = fn;
  }

  /** Marks `key` as needing work. A no-op after shutdown. */
  add(key: string): void {
    if (this.shuttingDown) return;
    if (this.dirty.has(key)) return;
    this.dirty.add(key);
    if (this.processing.has(key)) return; // picked up again when the current run is done
    this.ready.push(key);
    this.notify();
  }

  /** Adds `key` after `ms`; if a delayed add for the key is already pending, the earlier one wins. */
  addAfter(key: string, ms: number): void {
    if (this.shuttingDown) return;
    if (!(ms > 0)) {
      this.add(key);
      return;
    }
    const at = Date.now() + ms;
    const pending = this.delayed.get(key);
    if (pending && pending.at <= at) return;
    if (pending) this.timers.clearTimeout(pending.handle);
    const handle = this.timers.setTimeout(() => {
      this.delayed.delete(key);
      this.add(key);
    }, ms);
    this.delayed.set(key, { at, handle });
  }

  /** Re-adds `key` after its next backoff delay and counts the failure. */
  addRateLimited(key: string): number {
    const delay = this.nextBackoff(key);
    this.addAfter(key, delay);
    return delay;
  }

  /** Resets the backoff of `key`. */
  forget(key: string): void {
    this.failures.delete(key);
  }

  /** Consecutive failures recorded for `key`. */
  numRequeues(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /** Keys waiting to be handled (not counting in-flight or delayed ones). */
  len(): number {
    return this.ready.length - this.readyHead;
  }

  /** Keys currently being handled. */
  inFlight(): number {
    return this.processing.size;
  }

  isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /**
   * Starts `concurrency` workers. Resolves once `shutdown()` was called and every queued and
   * in-flight key has been handled.
   */
  run(handler: SyncHandler, opts: RunOptions = {}): Promise<void> {
    if (this.running) throw new Error(`work queue ${this.name} is already running`);
    const n = Math.max(1, Math.floor(opts.concurrency ?? 1));
    const workers: Promise<void>[] = [];
    for (let i = 0; i < n; i++) workers.push(this.worker(handler));
    this.running = Promise.all(workers).then(() => undefined);
    return this.running;
  }

  /**
   * Stops accepting keys and cancels delayed adds; the keys already queued and in flight are still
   * handled (drain). Resolves when the workers are done. Results that ask for a retry during the
   * drain are dropped — the next process starts from a full resync anyway.
   */
  async shutdown(): Promise<void> {
    this.shuttingDown = true;
    for (const { handle } of this.delayed.values()) this.timers.clearTimeout(handle);
    this.delayed.clear();
    this.notify();
    if (this.running) await this.running;
  }

  private nextBackoff(key: string): number {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    // 2^n overflows to Infinity for large n, which min() clamps; no precision issues below the cap.
    return Math.min(this.baseDelayMs * 2 ** n, this.maxDelayMs);
  }

  private notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  private take(): string | undefined {
    if (this.readyHead >= this.ready.length) return undefined;
    const key = this.ready[this.readyHead++];
    if (this.readyHead > 1024 && this.readyHead * 2 > this.ready.length) {
      this.ready.splice(0, this.readyHead);
      this.readyHead = 0;
    }
    return key;
  }

  private async worker(handler: SyncHandler): Promise<void> {
    for (;;) {
      const key = this.take();
      if (key === undefined) {
        if (this.shuttingDown) {
          // Wake the siblings too so every worker sees the shutdown.
          this.notify();
          return;
        }
        await new Promise<void>((resolve) => {
          const prev = this.wake;
          this.wake = () => {
            prev?.();
            resolve();
          };
        });
        continue;
      }
      this.dirty.delete(key);
      this.processing.add(key);
      let result: SyncResult;
      try {
        result = await handler(key);
      } catch (error) {
        result = { kind: 'retry', error };
      }
      this.processing.delete(key);
      this.apply(key, result);
      if (this.dirty.has(key)) {
        this.ready.push(key);
        this.notify();
      }
    }
  }

  private apply(key: string, result: SyncResult): void {
    switch (result.kind) {
      case 'ok':
        this.forget(key);
        return;
      case 'retry': {
        if (this.shuttingDown) {
          this.logger.warn('sync failed during shutdown, not retrying', { key, error: result.error });
          return;
        }
        const delayMs = this.addRateLimited(key);
        this.logger.warn('sync failed, will retry', {
          key,
          error: result.error,
          attempt: this.numRequeues(key),
          delayMs,
        });
        return;
      }
      case 'terminal':
        this.forget(key);
        this.logger.error('sync failed permanently, dropping key', { key, error: result.error });
        return;
      case 'requeueAfter':
        this.forget(key);
        this.addAfter(key, result.ms);
        return;
      case 'reprocessAll':
        this.forget(key);
        if (!this.reprocessAllCallback) {
          this.logger.warn('handler asked to reprocess all, but no callback is registered', { key });
          return;
        }
        try {
          this.reprocessAllCallback();
        } catch (error) {
          this.logger.error('reprocess-all callback threw', { key, error });
        }
        return;
    }
  }
}
