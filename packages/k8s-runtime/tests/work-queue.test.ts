import { describe, it, expect } from '@jest/globals';
import { WorkQueue, SyncResult, type QueueTimers } from '../src/work-queue.js';

/** Timers that record the requested delays and fire only when told to. */
function manualTimers() {
  let next = 1;
  const pending = new Map<number, { fn: () => void; ms: number }>();
  const timers: QueueTimers = {
    setTimeout(fn, ms) {
      const id = next++;
      pending.set(id, { fn, ms });
      return id;
    },
    clearTimeout(h) {
      pending.delete(h as number);
    },
  };
  return {
    timers,
    delays: () => [...pending.values()].map((p) => p.ms),
    fireAll() {
      const all = [...pending.values()];
      pending.clear();
      for (const p of all) p.fn();
    },
    size: () => pending.size,
  };
}

const tick = () => new Promise<void>((r) => setImmediate(r));

function deferred<T = void>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe('WorkQueue', () => {
  it('collapses many adds of one key into one run', async () => {
    const q = new WorkQueue();
    const seen: string[] = [];
    for (let i = 0; i < 10; i++) q.add('a');
    q.add('b');
    q.add('a');
    expect(q.len()).toBe(2);
    const running = q.run(async (k) => {
      seen.push(k);
      return SyncResult.ok();
    });
    await q.shutdown();
    await running;
    expect(seen).toEqual(['a', 'b']);
  });

  it('never runs one key on two workers; an add while in flight runs once more afterwards', async () => {
    const q = new WorkQueue();
    const gate = deferred();
    let active = 0;
    let maxActive = 0;
    let runs = 0;
    const running = q.run(
      async (k) => {
        expect(k).toBe('x');
        active++;
        maxActive = Math.max(maxActive, active);
        runs++;
        if (runs === 1) await gate.promise;
        active--;
        return SyncResult.ok();
      },
      { concurrency: 4 },
    );
    q.add('x');
    await tick();
    expect(q.inFlight()).toBe(1);
    q.add('x');
    q.add('x');
    await tick();
    expect(runs).toBe(1); // still held by the first worker
    gate.resolve();
    await tick();
    await tick();
    expect(runs).toBe(2);
    expect(maxActive).toBe(1);
    await q.shutdown();
    await running;
  });

  it('handles different keys concurrently up to the concurrency limit', async () => {
    const q = new WorkQueue();
    const gate = deferred();
    let active = 0;
    let maxActive = 0;
    const running = q.run(
      async () => {
        active++;
        maxActive = Math.max(maxActive, active);
        await gate.promise;
        active--;
        return SyncResult.ok();
      },
      { concurrency: 3 },
    );
    for (const k of ['a', 'b', 'c', 'd', 'e']) q.add(k);
    await tick();
    expect(active).toBe(3);
    gate.resolve();
    await q.shutdown();
    await running;
    expect(maxActive).toBe(3);
  });

  it('backs off per key exponentially on retry and resets on ok', async () => {
    const t = manualTimers();
    const q = new WorkQueue({ timers: t.timers, baseDelayMs: 5, maxDelayMs: 1_000_000 });
    const outcomes: SyncResult[] = [
      SyncResult.retry(new Error('1')),
      SyncResult.retry(new Error('2')),
      SyncResult.retry(new Error('3')),
      SyncResult.ok(),
      SyncResult.retry(new Error('4')),
    ];
    const observed: number[] = [];
    const running = q.run(async () => outcomes.shift() ?? SyncResult.ok());
    q.add('k');
    for (let i = 0; i < 5; i++) {
      await tick();
      await tick();
      observed.push(...t.delays());
      if (i === 3) {
        expect(q.numRequeues('k')).toBe(0);
        q.add('k');
      } else t.fireAll();
    }
    expect(observed).toEqual([5, 10, 20, 5]);
    await q.shutdown();
    await running;
  });

  it('caps the backoff at maxDelay', () => {
    const t = manualTimers();
    const q = new WorkQueue({ timers: t.timers, baseDelayMs: 5, maxDelayMs: 1_000_000 });
    const delays: number[] = [];
    for (let i = 0; i < 40; i++) delays.push(q.addRateLimited('k'));
    expect(delays[0]).toBe(5);
    expect(delays.every((d, i) => i === 0 || d >= delays[i - 1]!)).toBe(true);
    expect(delays[39]).toBe(1_000_000);
    expect(Math.max(...delays)).toBe(1_000_000);
  });

  it('treats a thrown handler as retry and keeps backoffs independent per key', async () => {
    const t = manualTimers();
    const q = new WorkQueue({ timers: t.timers });
    const running = q.run(async (k) => {
      if (k === 'bad') throw new Error('boom');
      return SyncResult.ok();
    });
    q.add('bad');
    q.add('good');
    await tick();
    await tick();
    expect(q.numRequeues('bad')).toBe(1);
    expect(q.numRequeues('good')).toBe(0);
    expect(t.delays()).toEqual([5]);
    await q.shutdown();
    await running;
  });

  it('forgets a key on terminal and does not requeue it', async () => {
    const t = manualTimers();
    const q = new WorkQueue({ timers: t.timers });
    let runs = 0;
    const running = q.run(async () => {
      runs++;
      return runs === 1 ? SyncResult.retry('x') : SyncResult.terminal(new Error('bad spec'));
    });
    q.add('k');
    await tick();
    await tick();
    expect(q.numRequeues('k')).toBe(1);
    t.fireAll();
    await tick();
    await tick();
    expect(runs).toBe(2);
    expect(q.numRequeues('k')).toBe(0);
    expect(t.size()).toBe(0);
    expect(q.len()).toBe(0);
    await q.shutdown();
    await running;
  });

  it('requeueAfter schedules the key after the given delay; the earlier of two delays wins', async () => {
    const t = manualTimers();
    const q = new WorkQueue({ timers: t.timers });
    let runs = 0;
    const running = q.run(async () => {
      runs++;
      return runs === 1 ? SyncResult.requeueAfter(30_000) : SyncResult.ok();
    });
    q.add('k');
    await tick();
    await tick();
    expect(t.delays()).toEqual([30_000]);
    q.addAfter('k', 50_000); // later: ignored
    expect(t.delays()).toEqual([30_000]);
    q.addAfter('k', 1_000); // earlier: replaces
    expect(t.delays()).toEqual([1_000]);
    t.fireAll();
    await tick();
    await tick();
    expect(runs).toBe(2);
    await q.shutdown();
    await running;
  });

  it('reprocessAll calls the registered callback', async () => {
    const q = new WorkQueue();
    const reprocessed: string[] = [];
    let first = true;
    q.onReprocessAll(() => {
      for (const k of ['a', 'b']) {
        reprocessed.push(k);
        q.add(k);
      }
    });
    const handled: string[] = [];
    const running = q.run(async (k) => {
      handled.push(k);
      if (first) {
        first = false;
        return SyncResult.reprocessAll();
      }
      return SyncResult.ok();
    });
    q.add('config');
    await tick();
    await tick();
    await tick();
    await q.shutdown();
    await running;
    expect(reprocessed).toEqual(['a', 'b']);
    expect(handled).toEqual(['config', 'a', 'b']);
  });

  it('shutdown drains queued and in-flight keys, then ignores adds and drops retries', async () => {
    const t = manualTimers();
    const q = new WorkQueue({ timers: t.timers });
    const gate = deferred();
    const handled: string[] = [];
    const running = q.run(async (k) => {
      if (k === 'a') await gate.promise;
      handled.push(k);
      return k === 'b' ? SyncResult.retry('again') : SyncResult.ok();
    });
    q.add('a');
    q.add('b');
    q.add('c');
    q.addAfter('later', 10_000);
    await tick();
    const done = q.shutdown();
    q.add('d');
    expect(t.size()).toBe(0); // delayed add cancelled
    gate.resolve();
    await done;
    await running;
    expect(handled).toEqual(['a', 'b', 'c']);
    expect(t.size()).toBe(0); // the retry of b was dropped
    expect(q.isShuttingDown()).toBe(true);
  });
});
