// What every binary does around its own work, written once: logger, API client, metrics
// registry with the Kubernetes client metrics, event recorder, the /metrics /healthz /readyz
// server, the owner of what it creates (read once), optional leader election, and a graceful
// shutdown in the one right order. A binary's
// `main.ts` parses its settings and hands this a factory for its work.
import { hostname } from 'node:os';
import type { Registry } from 'prom-client';
import { recorder, type EventRecorder } from './event-recorder.js';
import { connect, type Kube } from './kube.js';
import { LeaseElector } from './lease-elector.js';
import { createLogger, type Logger, type LogLevel } from './logger.js';
import { createK8sClientMetrics, createRegistry, type K8sClientMetrics } from './metrics.js';
import { createServer, type ProbeServer } from './server.js';
import { resolveOwner, type OwnerTarget } from './owner.js';
import { onShutdown, type ShutdownHandle } from './shutdown.js';
import type { OwnerReference } from './types.js';

/** The settings every binary has (parsed by the caller; this package does not read the environment). */
export interface CommonSettings {
  namespace: string;
  metricsHost: string;
  metricsPort: number;
  logLevel: LogLevel;
}

/** What a component's work gets to build itself from. */
export interface ComponentContext {
  readonly settings: CommonSettings;
  readonly logger: Logger;
  readonly kube: Kube;
  readonly registry: Registry;
  readonly clientMetrics: K8sClientMetrics;
  readonly events: EventRecorder;
  /** The reference to `ComponentOptions.owner`, read at start; unset without one. */
  readonly owner: OwnerReference | undefined;
}

/** A component's work: the Controller, the Speaker, the operator's reconciler. */
export interface ComponentWork {
  /**
   * Starts working (after leadership, when elected); `signal` aborts at shutdown and when the
   * leadership term ends. Rejecting ends the process with 1, unless `signal` aborted first.
   */
  start(signal: AbortSignal): Promise<void>;
  /** Stops working; the first shutdown step. */
  stop(): Promise<void>;
  /** `/readyz`. A leader-elected component that does not lead is ready regardless. */
  readonly ready: boolean;
}

export interface LeaderElectionSettings {
  /** Lease name (in the component's namespace). */
  lease: string;
  /** Holder identity; default host name and PID. */
  identity?: string;
  /** Defaults 15 s / 10 s / 2 s, as client-go's. */
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
}

export interface ComponentOptions {
  /** Logger `component` field. */
  name: string;
  settings: CommonSettings;
  /** Event source (`reportingController` / `source.component`). */
  eventSource: string;
  /** Event `source.host` (the speaker's node). */
  eventHost?: string;
  /** Fields on every log line (e.g. `{ node }`). */
  logContext?: Record<string, unknown>;
  /**
   * Only the holder of this Lease works. Losing it stops the work (its signal aborts, then
   * `stop()`), and the process campaigns again; winning again builds a fresh work with `work`, as
   * a restarted process would, and starts it.
   */
  leaderElection?: LeaderElectionSettings;
  /**
   * The object (in the component's namespace) that owns what the component creates: its Lease
   * gets the reference, and the work finds it in `context.owner`. Read once at start; when it
   * cannot be read the component runs without (and logs why).
   */
  owner?: OwnerTarget;
  /** Fields of the "started" log line. */
  startFields?: Record<string, unknown>;
  /**
   * Builds the work: once at start, and once more for every leadership term after a lost lease (a
   * work is started and stopped at most once). Create what must exist once per process (metrics
   * in `ctx.registry`) outside it.
   */
  work: (ctx: ComponentContext) => ComponentWork;
  /**
   * Work every replica does whatever the election says (the operator's webhook server): started
   * before the election, stopped after the leader's work and the Lease are done, just before the
   * client closes; its `ready` is part of `/readyz` on leaders and followers alike.
   */
  always?: (ctx: ComponentContext) => ComponentWork;
  // ---- for tests ----
  /** Default `connect({ logger })`. */
  connect?: (logger: Logger) => Kube;
  /** Default `process.exit`. */
  exit?: (code: number) => void;
  /** Default SIGTERM and SIGINT. */
  signals?: NodeJS.Signals[];
  shutdownDeadlineMs?: number;
  /** Default: a JSON-lines logger at `settings.logLevel`. */
  logger?: Logger;
  /** Default: a registry with the process metrics. */
  registry?: Registry;
}

export interface RunningComponent {
  readonly context: ComponentContext;
  /** The work of the current leadership term (or the next one, while not leading). */
  readonly work: ComponentWork;
  /** The work every replica does, when given. */
  readonly always: ComponentWork | undefined;
  readonly server: ProbeServer;
  /** Bound address of the probes server. */
  readonly address: { host: string; port: number };
  /** Whether this process works now (always true without leader election). */
  isLeader(): boolean;
  /** Runs the shutdown steps as a signal would; resolves with the exit code used. */
  stop(reason: string): Promise<number>;
}

/**
 * Starts a component: builds the context and the work, serves probes and metrics, then starts the
 * work at once or when it wins the Lease (the `always` work at once, on every replica). On
 * SIGTERM/SIGINT (or `stop()`): stop the work, hand the Lease back (so a successor starts without
 * waiting for expiry and never overlaps with our last writes), abort what still runs, close the
 * server, stop the `always` work (it serves as long as it can), close the client, exit.
 */
export async function runComponent(opts: ComponentOptions): Promise<RunningComponent> {
  const { settings } = opts;
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  const base = opts.logger ?? createLogger({ component: opts.name, level: settings.logLevel });
  const logger = opts.logContext ? base.child(opts.logContext) : base;
  const kube = (opts.connect ?? ((l: Logger) => connect({ logger: l })))(logger);
  const registry = opts.registry ?? createRegistry();
  const owner = opts.owner ? await resolveOwner(kube, settings.namespace, opts.owner, { logger }) : undefined;
  const context: ComponentContext = {
    settings,
    logger,
    kube,
    registry,
    clientMetrics: createK8sClientMetrics(registry),
    events: recorder(kube, { component: opts.eventSource, host: opts.eventHost, logger }),
    owner,
  };
  // The work of the current (or next) leadership term. A work is used for one term only: after a
  // lost lease the next term gets a freshly built one, with nothing carried over in memory.
  let work = opts.work(context);
  let workStarted = false;
  let workStopped: Promise<void> | undefined;
  const stopWork = (): Promise<void> => (workStopped ??= work.stop());
  const always = opts.always?.(context);
  const abort = new AbortController();
  const abortAlways = new AbortController();
  let stopping = false;

  const startWork = (w: ComponentWork, signal: AbortSignal, what: string): void => {
    w.start(signal).catch((error: unknown) => {
      // A term that ended while its work was starting (caches still syncing) is no failure.
      if (stopping || signal.aborted) return;
      logger.error(`${opts.name} failed to start${what}`, { error });
      exit(1);
    });
  };

  const election = opts.leaderElection;
  const identity = election ? (election.identity ?? `${hostname()}-${process.pid}`) : undefined;
  const elector = election
    ? new LeaseElector(kube, {
        namespace: settings.namespace,
        name: election.lease,
        identity: identity!,
        leaseDurationMs: election.leaseDurationMs ?? 15_000,
        renewDeadlineMs: election.renewDeadlineMs ?? 10_000,
        retryPeriodMs: election.retryPeriodMs ?? 2_000,
        logger,
        ...(owner ? { ownerReferences: [owner] } : {}),
        onStartedLeading: (term) => {
          if (workStarted) {
            work = opts.work(context);
            workStarted = false;
            workStopped = undefined;
          }
          logger.info('became leader; starting', { identity });
          workStarted = true;
          startWork(work, AbortSignal.any([abort.signal, term]), '');
        },
        onStoppedLeading: async () => {
          // A planned stop gives the lease back and stops the work itself.
          if (stopping) return;
          // The elector campaigns again once this resolves: the work is done writing by then, so
          // the next term (ours or another replica's) never overlaps with it.
          logger.error('lost leadership; stopping the leader work and campaigning again', { identity });
          await stopWork();
          logger.info('leader work stopped; campaigning again', { identity });
        },
      })
    : undefined;
  const isLeader = (): boolean => (elector ? elector.isLeader() : true);

  const server = createServer({
    host: settings.metricsHost,
    port: settings.metricsPort,
    registry,
    logger,
    checks: {
      healthz: () => true,
      readyz: () => {
        if (always && !always.ready)
          return { ok: false, reason: `${opts.name}: the work every replica does is not ready yet` };
        return work.ready || !isLeader() ? true : { ok: false, reason: `${opts.name} is not ready yet` };
      },
    },
  });
  const address = await server.start();
  logger.info(`${opts.name} started`, {
    namespace: settings.namespace,
    metrics: `${address.host}:${address.port}`,
    ...(identity ? { identity, lease: election!.lease } : {}),
    ...opts.startFields,
  });
  if (always) startWork(always, abortAlways.signal, ' (the work every replica does)');
  if (elector) void elector.run(abort.signal);
  else startWork(work, abort.signal, '');

  const shutdown: ShutdownHandle = onShutdown(
    logger,
    [
      {
        name: 'stop work',
        run: async () => {
          stopping = true;
          await stopWork();
        },
      },
      { name: 'release lease', run: async () => elector?.release() },
      { name: 'abort', run: () => abort.abort() },
      { name: 'close server', run: () => server.close() },
      {
        name: 'stop always-on work',
        run: async () => {
          await always?.stop();
          abortAlways.abort();
        },
      },
      { name: 'close client', run: () => kube.close() },
    ],
    {
      exit: (code) => {
        shutdown.dispose();
        exit(code);
      },
      ...(opts.signals ? { signals: opts.signals } : {}),
      ...(opts.shutdownDeadlineMs !== undefined ? { deadlineMs: opts.shutdownDeadlineMs } : {}),
    },
  );
  return {
    context,
    get work() {
      return work;
    },
    always,
    server,
    address,
    isLeader,
    stop: (reason) => shutdown.trigger(reason),
  };
}
