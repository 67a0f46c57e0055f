import {
  configInputChanged,
  GROUP,
  LAST_VALID_SPEC_ANNOTATION,
  LastGoodConfig,
  type AddressPool,
  type ConfigPool,
  type IPAddressPool,
  type L2Advertisement,
  type PoolObjectKind,
  validConditionTells,
} from '@metallb-ts/api';
import { Allocator } from '@metallb-ts/ipam';
import type {
  EventRecorder,
  CacheFactory,
  KubeWriter,
  KubeObject,
  K8sClientMetrics,
  Logger,
  ResourceCache,
  SyncResult,
  Namespace,
  Service,
} from '@metallb-ts/k8s-runtime';
import { formatTime, isForbidden, objectKey, WorkQueue } from '@metallb-ts/k8s-runtime';
import type { AllocatorMetrics } from './allocator-metrics.js';
import { applyOutcome, echoVersions } from './apply-outcome.js';
import { configReloadDelay, readAddressListsAhead, samePools } from './config-reload.js';
import { DeprecationNotices } from './deprecation-notices.js';
import {
  ownVerdictMayChange,
  poolStatusUpdates,
  servedPoolKey,
  validSpecToRecord,
  type ConfigVerdicts,
} from './pool-status-updates.js';
import { serviceIntent } from './service-intent.js';
import { restoreService, syncService } from './sync-service.js';

/**
 * Services synced at once. Safe because a sync decides synchronously (syncService reads and
 * changes the allocator without awaiting) and only then awaits its write; the queue never hands
 * one key to two workers. With one worker a burst is bound by one PATCH round trip per Service
 * (the scale benchmark: ~30 Services/s on the lab); the writes are what may overlap.
 */
export const SYNC_CONCURRENCY = 16;

/** Queue key of the pool status writer; service keys always contain a slash, this one cannot clash. */
const POOL_STATUS_KEY = '@pool-status';
/**
 * Pool usage changes with every allocation. The status writer follows usage (and the echoes of
 * its own writes) at most once per this many ms, so a burst of Services costs each pool a few
 * status writes instead of one per Service (the scale benchmark measured 0.96 pool status
 * PATCHes per Service, each fanned out to every watcher of the pools). Config verdicts are still
 * written at once after a reload.
 */
export const POOL_STATUS_FOLD_MS = 500;
/**
 * Queue key of the config reload. A reload rebuilds every pool synchronously (huge address lists
 * cost ~30 µs an entry: seconds for a storm of them), so reloads are folded and spaced: see
 * `configReloadDelay`. Reloading on every watch event kept the event loop so busy under a storm
 * of hostile pool objects that the lease renewal missed its deadline and the controller stepped
 * down (the bad-input e2e test).
 */
const CONFIG_KEY = '@config';

const PLURALS: Record<PoolObjectKind, string> = {
  IPAddressPool: 'ipaddresspools',
  AddressPool: 'addresspools',
  L2Advertisement: 'l2advertisements',
};

export interface ControllerDeps {
  /** Reads through caches, writes Service annotations/status and pool status by patches. */
  kube: CacheFactory & Pick<KubeWriter, 'patch'>;
  events: EventRecorder;
  logger: Logger;
  namespace: string;
  loadBalancerClass?: string;
  allocatorMetrics: AllocatorMetrics;
  clientMetrics: K8sClientMetrics;
  /** Creates objects the speakers need when missing (the gossip key Secret); runs in the background. */
  ensureSecrets?: (signal: AbortSignal) => Promise<void>;
}

/**
 * Wires caches, the work queue and the allocator. The decisions live in syncService and
 * LastGoodConfig; this class only moves objects between them and the API server.
 */
export class Controller {
  readonly allocator = new Allocator();
  private readonly queue: WorkQueue;
  private readonly configState = new LastGoodConfig();
  private readonly services: ResourceCache<Service>;
  private readonly namespaces: ResourceCache<Namespace>;
  private readonly ipAddressPools: ResourceCache<IPAddressPool>;
  private readonly addressPools: ResourceCache<AddressPool>;
  private readonly l2Advertisements: ResourceCache<L2Advertisement>;
  private running = false;
  /** What the last config reload said about each object: the status writer's input. */
  private verdicts: ConfigVerdicts = { errors: [], stale: new Set(), served: new Set() };
  /** servedPoolKeys of config objects created or edited since the last reload read them. */
  private readonly unread = new Set<string>();
  /** False once the API server refused an annotation write on a pool object (RBAC). */
  private mayRecordSpecs = true;
  /** Allocator generation the metrics and pool status were last computed for. */
  private statsGeneration = -1;
  /** The served pools of the last reload, to skip reloads that change none of them. */
  private servedPools: readonly ConfigPool[] | undefined;
  /** How long the last config reload blocked the event loop (ms). */
  private lastReloadMs = 0;
  /** Config errors reported on the last reload: repeats are not told again. */
  private reportedErrors = new Set<string>();
  private readonly deprecations = new DeprecationNotices();
  /**
   * Per service: the resourceVersions our last write passes through before the watch shows its
   * result — the one it was computed against and any intermediate one (when a write took two
   * requests). While the cache shows one of them our own write is in flight back to us; syncing
   * that copy would redo the write or emit spurious events (e.g. ClearAssignment for the address
   * we just moved away from). The final version is never in the set: its watch event is what
   * re-syncs the service afterwards.
   */
  private readonly pendingWrite = new Map<string, ReadonlySet<string>>();
  /** Services whose last allocation failed: worth another try whenever an address is freed. */
  private readonly waiting = new Set<string>();
  /** Per pool object: the status we last wrote and the version it was compared against. */
  private readonly poolStatusWritten = new Map<string, { resourceVersion: string; status: string }>();

  constructor(private readonly deps: ControllerDeps) {
    const { kube, namespace } = deps;
    this.services = kube.watchCache<Service>({ apiVersion: 'v1', kind: 'Service', plural: 'services' });
    this.namespaces = kube.watchCache<Namespace>({
      apiVersion: 'v1',
      kind: 'Namespace',
      plural: 'namespaces',
    });
    const crd = <T extends KubeObject>(kind: string, plural: string, version = 'v1beta1') =>
      kube.watchCache<T>({ apiVersion: `${GROUP}/${version}`, kind, plural, namespace });
    this.ipAddressPools = crd<IPAddressPool>('IPAddressPool', 'ipaddresspools');
    this.addressPools = crd<AddressPool>('AddressPool', 'addresspools');
    this.l2Advertisements = crd<L2Advertisement>('L2Advertisement', 'l2advertisements');
    this.queue = new WorkQueue({ logger: deps.logger, onReprocessAll: () => this.enqueueAllServices() });
  }

  get ready(): boolean {
    // The config is loaded before `running` is set.
    return this.running;
  }

  /** Starts caches and reconciling; resolves once the initial state has been restored. */
  async start(signal: AbortSignal): Promise<void> {
    void this.deps.ensureSecrets?.(signal);
    await Promise.all(this.caches().map((c) => c.waitForSync(signal)));
    this.reloadConfig();
    this.restoreAssignments();
    this.services.onChange((key) => this.queue.add(key));
    for (const [kind, c] of this.configCaches()) {
      c.onChange((_key, obj, prev) => {
        // Our own status writes come back as changes: they touch no config, only the status.
        if (!configInputChanged(prev, obj)) return this.queue.addAfter(POOL_STATUS_KEY, POOL_STATUS_FOLD_MS);
        if (ownVerdictMayChange(prev, obj))
          this.unread.add(servedPoolKey(kind, obj?.metadata?.namespace, obj?.metadata?.name ?? ''));
        this.queue.addAfter(CONFIG_KEY, configReloadDelay(this.lastReloadMs));
      });
    }
    // Namespace labels feed serviceAllocation.namespaceSelectors: only a label change matters,
    // and only to the Services of that namespace.
    this.namespaces.onChange((name, obj, prev) => {
      if (JSON.stringify(obj?.metadata?.labels ?? {}) === JSON.stringify(prev?.metadata?.labels ?? {}))
        return;
      for (const s of this.services.list()) if (s.metadata?.namespace === name) this.queue.add(objectKey(s));
    });
    this.running = true;
    this.enqueueAllServices();
    this.queue.add(POOL_STATUS_KEY);
    void this.queue.run(
      (key) =>
        key === POOL_STATUS_KEY
          ? this.writePoolStatus()
          : key === CONFIG_KEY
            ? this.onConfigChange()
            : this.syncServiceKey(key),
      { concurrency: SYNC_CONCURRENCY },
    );
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.queue.shutdown();
    for (const c of this.caches()) await c.stop();
  }

  private configCaches() {
    return [
      ['IPAddressPool', this.ipAddressPools],
      ['AddressPool', this.addressPools],
      ['L2Advertisement', this.l2Advertisements],
    ] as const;
  }

  private caches() {
    return [
      this.services,
      this.namespaces,
      this.ipAddressPools,
      this.addressPools,
      this.l2Advertisements,
    ] as const;
  }

  private async onConfigChange(): Promise<SyncResult> {
    // Only the pools matter to allocation: an edit that leaves them as they were (an
    // L2Advertisement, a label nobody selects on) needs no pass over every Service.
    // A reload starts on a macrotask of its own: the work just before it (often the previous
    // reload, when edits arrived during it) has used the event loop for a while already.
    await new Promise((resolve) => setImmediate(resolve));
    await readAddressListsAhead(() => [...this.ipAddressPools.list(), ...this.addressPools.list()]);
    const started = performance.now();
    const changed = this.reloadConfig();
    this.lastReloadMs = performance.now() - started;
    if (changed) this.enqueueAllServices();
    this.queue.add(POOL_STATUS_KEY);
    return { kind: 'ok' };
  }

  /** Rebuilds the config; true when the served pools changed (the allocator then has new pools). */
  private reloadConfig(): boolean {
    // Synchronous from here: every object in the caches now is read by this reload.
    this.unread.clear();
    const { config, errors, stale } = this.configState.update({
      addressPools: this.addressPools.list(),
      ipAddressPools: this.ipAddressPools.list(),
      l2Advertisements: this.l2Advertisements.list(),
    });
    const reported = new Set(errors.map((e) => e.message));
    // Every reload reports the same errors while an object stays invalid; tell each one once.
    for (const e of errors.filter((e) => !this.reportedErrors.has(e.message))) {
      this.deps.logger.error('invalid configuration object', {
        key: `${e.namespace}/${e.name}`,
        kind: e.kind,
        field: e.field,
        value: e.value,
        reason: e.reason,
      });
      const obj = this.configObject(e.kind, e.namespace, e.name);
      // A restarted controller finds most errors already told by the object's Valid condition.
      if (obj && !validConditionTells(obj, e.message))
        this.deps.events.emit(obj, 'Warning', 'InvalidConfiguration', e.message);
    }
    this.reportedErrors = reported;
    const served = new Set(
      config.pools.map((p) => servedPoolKey(p.source.kind, p.source.namespace, p.source.name)),
    );
    this.verdicts = { errors, stale: new Set(stale), served };
    if (stale.length > 0) this.deps.logger.warn('serving last valid version of invalid objects', { stale });
    this.deps.clientMetrics.setConfigLoaded(true);
    this.deps.clientMetrics.setConfigStale(errors.length > 0);
    if (samePools(this.servedPools, config.pools)) return false;
    this.servedPools = config.pools;
    // Evicted services are re-synced by the full enqueue that follows a pool change.
    for (const ev of this.allocator.setPools(config.pools))
      this.deps.logger.warn('address left every pool; service will move', { key: ev.key, reason: ev.reason });
    this.publishStats();
    return true;
  }

  /** The cached object an error is about: events reference it (uid, apiVersion) so describe shows them. */
  private configObject(kind: PoolObjectKind, namespace: string, name: string): KubeObject | undefined {
    const cache = {
      IPAddressPool: this.ipAddressPools,
      AddressPool: this.addressPools,
      L2Advertisement: this.l2Advertisements,
    }[kind];
    return cache.get(namespace ? `${namespace}/${name}` : name);
  }

  /**
   * Pool usage to the metrics and the pool status writer, only when the allocator's counts may
   * have changed: most syncs change nothing, and stats() walks every pool.
   */
  private publishStats(): void {
    const generation = this.allocator.generation;
    if (generation === this.statsGeneration) return;
    this.statsGeneration = generation;
    this.deps.allocatorMetrics.update(this.allocator.stats());
    if (this.running) this.queue.addAfter(POOL_STATUS_KEY, POOL_STATUS_FOLD_MS);
  }

  /**
   * Before allocating anything new, take back every address services already hold, oldest service
   * first, so a restart never reshuffles IPs and a contested address stays with its first holder.
   */
  private restoreAssignments(): void {
    const holders = this.services
      .list()
      .filter((s) => (s.status?.loadBalancer?.ingress?.length ?? 0) > 0)
      .sort((a, b) => timeOf(a) - timeOf(b) || objectKey(a).localeCompare(objectKey(b)));
    // Only reservations here: allocating for a service that cannot keep its address could hand
    // out an address a younger holder has not restored yet. Its normal sync moves it afterwards.
    const lost: string[] = [];
    for (const svc of holders) {
      if (!restoreService(objectKey(svc), svc, this.allocator, this.intentOptions()))
        lost.push(objectKey(svc));
    }
    this.deps.logger.info('restored existing assignments', { services: holders.length, cannotKeep: lost });
  }

  private intentOptions() {
    return {
      loadBalancerClass: this.deps.loadBalancerClass,
      namespaceLabels: (ns: string) => this.namespaces.get(ns)?.metadata?.labels,
    };
  }

  private enqueueAllServices(): void {
    for (const s of this.services.list()) this.queue.add(objectKey(s));
  }

  private async syncServiceKey(key: string): Promise<SyncResult> {
    const svc = this.services.get(key);
    const rv = svc?.metadata?.resourceVersion;
    if (rv !== undefined && this.pendingWrite.get(key)?.has(rv)) return { kind: 'ok' };
    this.pendingWrite.delete(key);
    const freedBefore = this.allocator.freedCount;
    const opts = this.intentOptions();
    const intent = svc && serviceIntent(svc, opts);
    const outcome = syncService(key, svc, this.allocator, opts, intent);
    this.publishStats();
    // Nothing about a waiting service changes when another one frees an address, so no watch
    // event would retry it: wake the waiting ones whenever addresses come free.
    if (outcome.events.some((e) => e.reason === 'AllocationFailed')) this.waiting.add(key);
    else this.waiting.delete(key);
    // The count in use is no signal: a Service moving to another address frees one and takes one.
    if (this.allocator.freedCount !== freedBefore) for (const k of this.waiting) this.queue.add(k);
    const notice = this.deprecations.check(key, svc, opts, intent);
    if (notice) outcome.events.unshift(notice);
    try {
      const { writes, versions } = await applyOutcome(this.deps.kube, this.deps.events, svc, outcome);
      if (writes > 0 && rv !== undefined) this.pendingWrite.set(key, echoVersions(rv, versions));
      this.deps.clientMetrics.recordUpdate(true);
      if (writes > 0 || outcome.events.length > 0) {
        this.deps.logger.info('service synced', {
          key,
          ingress: outcome.ingress,
          pool: outcome.pool,
          events: outcome.events.map((e) => e.reason),
        });
      }
      return { kind: 'ok' };
    } catch (error) {
      this.deps.clientMetrics.recordUpdate(false);
      // The events of a failed apply were not emitted: let the retry tell the deprecation again.
      if (notice) this.deprecations.forget(key);
      return { kind: 'retry', error };
    }
  }

  /**
   * Brings every config object's status in line with the last reload and the allocator (the
   * Valid condition; usage counts on served pools), writing only differences.
   */
  private async writePoolStatus(): Promise<SyncResult> {
    const pools: (IPAddressPool | AddressPool)[] = [
      ...this.ipAddressPools.list(),
      ...this.addressPools.list(),
    ];
    // The objects and the last reload's verdicts on them, taken together before any await: an
    // object edited since that reload is in `unread` at once (a cache and its listener move
    // together), and a reload during the writes below cannot pair its verdicts with these objects.
    const verdicts = { ...this.verdicts, unread: new Set(this.unread) };
    const updates = poolStatusUpdates(
      [...pools, ...this.l2Advertisements.list()],
      this.allocator.stats(),
      verdicts,
      formatTime(new Date()),
    );
    let failed: unknown;
    for (const u of updates) {
      const id = `${u.kind}/${u.namespace}/${u.name}`;
      const last = this.poolStatusWritten.get(id);
      // Written already against this very version: the cache just has not caught up yet.
      if (last && last.resourceVersion === u.resourceVersion && last.status === u.fingerprint) continue;
      try {
        await this.deps.kube.patch(
          {
            apiVersion: u.apiVersion,
            kind: u.kind,
            namespace: u.namespace,
            name: u.name,
            plural: PLURALS[u.kind],
          },
          { status: u.status },
          { type: 'merge', subresource: 'status' },
        );
        this.poolStatusWritten.set(id, { resourceVersion: u.resourceVersion, status: u.fingerprint });
        this.deps.logger.debug('pool status written', { key: id, status: u.status });
      } catch (error) {
        failed = error;
        this.deps.logger.warn('writing pool status failed', { key: id, error });
      }
    }
    for (const o of this.mayRecordSpecs ? pools : []) {
      try {
        await this.recordValidSpec(o, verdicts);
      } catch (error) {
        if (isForbidden(error)) {
          // Older RBAC grants only the status subresource: run without the record rather than
          // retry forever (a restart then forgets last valid versions, as it always did).
          this.mayRecordSpecs = false;
          this.deps.logger.warn('not allowed to annotate pool objects; last valid specs are not recorded', {
            key: objectKey(o),
            error,
          });
          break;
        }
        failed = error;
        this.deps.logger.warn('recording the last valid pool spec failed', { key: objectKey(o), error });
      }
    }
    return failed === undefined ? { kind: 'ok' } : { kind: 'retry', error: failed };
  }

  /**
   * Writes a served pool's current spec into LAST_VALID_SPEC_ANNOTATION, so that a controller
   * restarted while the pool is invalid still serves its last valid version (the in-memory
   * LastGoodConfig starts empty). Only objects served from their current version qualify
   * (validSpecToRecord).
   */
  private async recordValidSpec(
    o: IPAddressPool | AddressPool,
    verdicts: ConfigVerdicts & { readonly unread: ReadonlySet<string> },
  ): Promise<void> {
    const name = o.metadata?.name;
    if (!name) return;
    const spec = validSpecToRecord(o, verdicts);
    if (spec === undefined) return;
    await this.deps.kube.patch(
      {
        apiVersion: o.apiVersion ?? `${GROUP}/v1beta1`,
        kind: o.kind,
        namespace: o.metadata?.namespace,
        name,
        plural: PLURALS[o.kind],
      },
      { metadata: { annotations: { [LAST_VALID_SPEC_ANNOTATION]: spec } } },
      { type: 'merge' },
    );
  }
}

const timeOf = (o: Service) => new Date(o.metadata?.creationTimestamp ?? 0).getTime();
