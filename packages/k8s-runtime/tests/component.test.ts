import { afterEach, describe, expect, it } from '@jest/globals';
import { runComponent, type ComponentWork, type RunningComponent } from '../src/component.js';
import type { Lease } from '../src/lease-elector.js';
import { silentLogger } from '../src/logger.js';
import type { OwnerTarget } from '../src/owner.js';
import { workGroup } from '../src/work-group.js';
import { createRegistry } from '../src/metrics.js';
import { FakeKube, until } from '../src/testing/index.js';

const settings = {
  namespace: 'metallb-system',
  metricsHost: '127.0.0.1',
  metricsPort: 0,
  logLevel: 'none' as const,
};
const fast = { leaseDurationMs: 60_000, renewDeadlineMs: 30_000, retryPeriodMs: 20 };

/** A work that records what happens to it, in order, into `log`. */
class RecordingWork implements ComponentWork {
  ready = false;
  signal: AbortSignal | undefined;
  constructor(
    readonly id: string,
    private readonly log: string[],
    private readonly api: FakeKube,
    private readonly startError?: Error,
  ) {}
  async start(signal: AbortSignal): Promise<void> {
    this.signal = signal;
    signal.addEventListener('abort', () =>
      this.log.push(`${this.id} aborted (lease holder=${this.holder()})`),
    );
    this.log.push(`${this.id} start`);
    if (this.startError) throw this.startError;
  }
  async stop(): Promise<void> {
    this.log.push(`${this.id} stop (aborted=${this.signal?.aborted}, lease holder=${this.holder()})`);
  }
  private holder(): string {
    return this.api.find<Lease>('Lease', 'metallb-system', 'test-lease')?.spec?.holderIdentity ?? 'none';
  }
}

const running: RunningComponent[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) await r.stop('test over');
});

async function start(
  api: FakeKube,
  log: string[],
  id: string,
  opts: {
    elect?: boolean;
    startError?: Error;
    timing?: typeof fast;
    always?: boolean;
    owner?: OwnerTarget;
  } = {},
): Promise<{
  run: RunningComponent;
  work: RecordingWork;
  always: RecordingWork;
  exits: number[];
  built: RecordingWork[];
}> {
  const exits: number[] = [];
  const work = new RecordingWork(id, log, api, opts.startError);
  const built: RecordingWork[] = [];
  const always = new RecordingWork(`${id}-always`, log, api);
  const run = await runComponent({
    name: 'test',
    settings,
    eventSource: 'metallb-test',
    leaderElection: opts.elect ? { lease: 'test-lease', identity: id, ...(opts.timing ?? fast) } : undefined,
    ...(opts.owner ? { owner: opts.owner } : {}),
    work: (ctx) => {
      // Every term after the first gets a work of its own: `a#2`, `a#3`, ...
      const w = built.length === 0 ? work : new RecordingWork(`${id}#${built.length + 1}`, log, api);
      built.push(w);
      log.push(`${w.id} built (namespace ${ctx.settings.namespace})`);
      if (ctx.owner) log.push(`${w.id} owned by ${ctx.owner.kind} ${ctx.owner.name} ${ctx.owner.uid}`);
      return w;
    },
    ...(opts.always ? { always: () => always } : {}),
    connect: () => api,
    exit: (code) => {
      exits.push(code);
      log.push(`${id} exit ${code}`);
    },
    signals: [],
    logger: silentLogger,
    registry: createRegistry({ defaultMetrics: false }),
  });
  running.push(run);
  return { run, work, always, exits, built };
}

const get = (run: RunningComponent, path: string) => fetch(`http://127.0.0.1:${run.address.port}${path}`);
const readyz = async (run: RunningComponent) => (await get(run, '/readyz')).status;

describe('runComponent', () => {
  it('without leader election starts the work at once; readiness follows the work', async () => {
    const api = new FakeKube();
    const log: string[] = [];
    const { run, work } = await start(api, log, 'a');
    await until(() => log.includes('a start'), 'work started');
    expect(log).toEqual(['a built (namespace metallb-system)', 'a start']);
    expect(await readyz(run)).toBe(503);
    work.ready = true;
    expect(await readyz(run)).toBe(200);
    expect((await get(run, '/healthz')).status).toBe(200);
    // The Kubernetes client metrics are registered in the component's registry.
    expect(await (await get(run, '/metrics')).text()).toContain('metallb_k8s_client_updates_total');
  });

  it('reads its owner once at start: the work gets the reference and the Lease carries it', async () => {
    const api = new FakeKube();
    api.put({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'test', namespace: 'metallb-system' },
    });
    const log: string[] = [];
    const owner = { apiVersion: 'apps/v1', kind: 'Deployment', plural: 'deployments', name: 'test' };
    const { run } = await start(api, log, 'a', { elect: true, owner });
    await until(() => run.isLeader() && log.includes('a start'), 'a leads and works');
    expect(log).toEqual([
      'a built (namespace metallb-system)',
      'a owned by Deployment test uid-test',
      'a start',
    ]);
    expect(api.find<Lease>('Lease', 'metallb-system', 'test-lease')?.metadata?.ownerReferences).toEqual([
      { apiVersion: 'apps/v1', kind: 'Deployment', name: 'test', uid: 'uid-test' },
    ]);
    expect(api.calls.filter((c) => c.startsWith('get Deployment'))).toEqual(['get Deployment test']);
  });

  it('runs without an owner that does not exist', async () => {
    const api = new FakeKube();
    const log: string[] = [];
    const owner = { apiVersion: 'apps/v1', kind: 'Deployment', plural: 'deployments', name: 'gone' };
    const { run } = await start(api, log, 'a', { elect: true, owner });
    await until(() => run.isLeader() && log.includes('a start'), 'a leads and works');
    expect(run.context.owner).toBeUndefined();
    expect(api.find<Lease>('Lease', 'metallb-system', 'test-lease')?.metadata).not.toHaveProperty(
      'ownerReferences',
    );
  });

  it('shuts down in order: stop work (still holding the lease, not aborted), release, abort, close, exit 0', async () => {
    const api = new FakeKube();
    const log: string[] = [];
    const { run, work, exits } = await start(api, log, 'a', { elect: true });
    await until(() => run.isLeader() && log.includes('a start'), 'a leads and works');
    running.splice(running.indexOf(run), 1);
    expect(await run.stop('test')).toBe(0);
    expect(log.slice(2)).toEqual([
      'a stop (aborted=false, lease holder=a)',
      'a aborted (lease holder=)',
      'a exit 0',
    ]);
    expect(api.find<Lease>('Lease', 'metallb-system', 'test-lease')?.spec?.holderIdentity).toBe('');
    expect(work.signal?.aborted).toBe(true);
    expect(api.closed).toBe(true);
    expect(exits).toEqual([0]);
    // The server is closed: it no longer answers.
    await expect(get(run, '/healthz')).rejects.toThrow();
  });

  it('with leader election only the leader works; a follower is ready; release hands over at once', async () => {
    const api = new FakeKube();
    const log: string[] = [];
    const a = await start(api, log, 'a', { elect: true });
    await until(() => a.run.isLeader(), 'a leads');
    const b = await start(api, log, 'b', { elect: true });
    await new Promise((r) => setTimeout(r, 100));
    expect(b.run.isLeader()).toBe(false);
    expect(log).not.toContain('b start');
    // Not leading: ready although its work is not (it has nothing to do).
    expect(await readyz(b.run)).toBe(200);
    expect(await readyz(a.run)).toBe(503);
    running.splice(running.indexOf(a.run), 1);
    await a.run.stop('rollout');
    // The lease lasts a minute: b only starts this soon because a gave the lease back.
    await until(() => log.includes('b start'), 'b takes over', 3000);
    expect(b.run.isLeader()).toBe(true);
    expect(b.exits).toEqual([]);
  });

  it('steps down when the lease is lost: the work stops, the process campaigns again and a fresh work starts on winning', async () => {
    const api = new FakeKube();
    const log: string[] = [];
    const { run, exits, built } = await start(api, log, 'a', {
      elect: true,
      timing: { leaseDurationMs: 400, renewDeadlineMs: 200, retryPeriodMs: 20 },
    });
    await until(() => run.isLeader() && log.includes('a start'), 'a leads and works');
    api.down = true; // renewals fail until the deadline passes
    await until(() => log.some((l) => l.startsWith('a stop')), 'the work stops after losing the lease');
    expect(run.isLeader()).toBe(false);
    expect(built[0]!.signal?.aborted).toBe(true);
    // Not leading: nothing runs, and the process stays (it is ready: it has nothing to do).
    expect(log.filter((l) => l.startsWith('a#2'))).toEqual([]);
    expect(await readyz(run)).toBe(200);
    api.down = false;
    await until(() => run.isLeader() && log.includes('a#2 start'), 'a leads again with a fresh work');
    expect(built).toHaveLength(2);
    expect(run.work).toBe(built[1]);
    expect(built[1]!.signal?.aborted).toBe(false);
    expect(log).toEqual([
      'a built (namespace metallb-system)',
      'a start',
      'a aborted (lease holder=a)',
      'a stop (aborted=true, lease holder=a)',
      'a#2 built (namespace metallb-system)',
      'a#2 start',
    ]);
    expect(exits).toEqual([]);
    // A planned stop then stops the fresh work and gives the lease back.
    running.splice(running.indexOf(run), 1);
    expect(await run.stop('test')).toBe(0);
    expect(log.slice(6)).toEqual([
      'a#2 stop (aborted=false, lease holder=a)',
      'a#2 aborted (lease holder=)',
      'a exit 0',
    ]);
  });

  it('ends the process with 1 when the work fails to start', async () => {
    const api = new FakeKube();
    const log: string[] = [];
    const { exits } = await start(api, log, 'a', { startError: new Error('caches never synced') });
    await until(() => exits.length > 0, 'exit');
    expect(exits).toEqual([1]);
  });

  it('runs the always-on work on every replica, before and regardless of the election', async () => {
    const api = new FakeKube();
    const log: string[] = [];
    const a = await start(api, log, 'a', { elect: true, always: true });
    await until(() => a.run.isLeader() && log.includes('a start'), 'a leads');
    const b = await start(api, log, 'b', { elect: true, always: true });
    await until(() => log.includes('b-always start'), 'b runs its always-on work');
    expect(log.indexOf('a-always start')).toBeLessThan(log.indexOf('a start'));
    expect(b.run.isLeader()).toBe(false);
    expect(log).not.toContain('b start');
    // A follower is ready only when its always-on work is.
    expect(await readyz(b.run)).toBe(503);
    b.always.ready = true;
    expect(await readyz(b.run)).toBe(200);
    // A leader needs both.
    a.work.ready = true;
    expect(await readyz(a.run)).toBe(503);
    a.always.ready = true;
    expect(await readyz(a.run)).toBe(200);
    a.always.ready = false;
    expect(await readyz(a.run)).toBe(503);
  });

  it('stops the always-on work after the work, the lease and the server, before exiting', async () => {
    const api = new FakeKube();
    const log: string[] = [];
    const { run, always } = await start(api, log, 'a', { elect: true, always: true });
    await until(() => run.isLeader() && log.includes('a start'), 'a leads and works');
    running.splice(running.indexOf(run), 1);
    expect(await run.stop('test')).toBe(0);
    const after = log.slice(log.indexOf('a stop (aborted=false, lease holder=a)'));
    expect(after).toEqual([
      'a stop (aborted=false, lease holder=a)',
      'a aborted (lease holder=)',
      'a-always stop (aborted=false, lease holder=)',
      'a-always aborted (lease holder=)',
      'a exit 0',
    ]);
    expect(always.signal?.aborted).toBe(true);
  });

  it('ends the process with 1 when the always-on work fails to start', async () => {
    const api = new FakeKube();
    const log: string[] = [];
    const exits: number[] = [];
    const run = await runComponent({
      name: 'test',
      settings,
      eventSource: 'metallb-test',
      work: () => new RecordingWork('a', log, api),
      always: () => new RecordingWork('a-always', log, api, new Error('port in use')),
      connect: () => api,
      exit: (code) => exits.push(code),
      signals: [],
      logger: silentLogger,
      registry: createRegistry({ defaultMetrics: false }),
    });
    running.push(run);
    await until(() => exits.length > 0, 'exit');
    expect(exits).toEqual([1]);
  });
});

describe('workGroup', () => {
  it('starts all, stops in reverse order even after a failure, and is ready when all are', async () => {
    const api = new FakeKube();
    const log: string[] = [];
    const first = new RecordingWork('first', log, api);
    const second = new RecordingWork('second', log, api);
    second.stop = async () => {
      log.push('second stop');
      throw new Error('second would not stop');
    };
    const group = workGroup([first, second]);
    await group.start(new AbortController().signal);
    expect(log).toEqual(['first start', 'second start']);
    expect(group.ready).toBe(false);
    first.ready = true;
    expect(group.ready).toBe(false);
    second.ready = true;
    expect(group.ready).toBe(true);
    await expect(group.stop()).rejects.toThrow('second would not stop');
    expect(log.slice(2)).toEqual(['second stop', 'first stop (aborted=false, lease holder=none)']);
  });

  it('rejects start with the failure of one work', async () => {
    const api = new FakeKube();
    const group = workGroup([
      new RecordingWork('ok', [], api),
      new RecordingWork('bad', [], api, new Error('cache never synced')),
    ]);
    await expect(group.start(new AbortController().signal)).rejects.toThrow('cache never synced');
  });
});
