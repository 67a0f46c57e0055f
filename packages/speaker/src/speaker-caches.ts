import {
  configInputChanged,
  GROUP,
  LastGoodConfig,
  type AddressPool,
  type Config,
  type IPAddressPool,
  type L2Advertisement,
  type ServiceL2Status,
} from '@metallb-ts/api';
import type {
  CacheFactory,
  EndpointSlice,
  K8sClientMetrics,
  KubeObject,
  Logger,
  Node as KubeNode,
  ResourceCache,
  Service,
} from '@metallb-ts/k8s-runtime';

/** Who to tell when the caches change: what the node announces, or only what its statuses say. */
export interface CacheListeners {
  recompute: () => void;
  statuses: () => void;
}

/**
 * What the speaker reads from the API server: the watch caches, and the one `Config` built from
 * the pool caches (the last valid one; rebuilt only after a change it depends on).
 */
export class SpeakerCaches {
  readonly services: ResourceCache<Service>;
  readonly slices: ResourceCache<EndpointSlice>;
  readonly nodes: ResourceCache<KubeNode>;
  readonly ipAddressPools: ResourceCache<IPAddressPool>;
  readonly addressPools: ResourceCache<AddressPool>;
  readonly l2Advertisements: ResourceCache<L2Advertisement>;
  /** Every ServiceL2Status: ours, and other nodes' ones we may have to clean up. */
  readonly l2Statuses: ResourceCache<ServiceL2Status>;
  private readonly configState = new LastGoodConfig();
  /** The config built from the pool caches; dropped when one of them changes what it depends on. */
  private built: Config | undefined;

  constructor(
    kube: CacheFactory,
    namespace: string,
    private readonly logger: Logger,
    private readonly clientMetrics: K8sClientMetrics,
  ) {
    this.services = kube.watchCache<Service>({
      apiVersion: 'v1',
      kind: 'Service',
      plural: 'services',
      logger,
    });
    this.slices = kube.watchCache<EndpointSlice>({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      plural: 'endpointslices',
      logger,
    });
    this.nodes = kube.watchCache<KubeNode>({ apiVersion: 'v1', kind: 'Node', plural: 'nodes', logger });
    const crd = <T extends KubeObject>(kind: string, plural: string) =>
      kube.watchCache<T>({ apiVersion: `${GROUP}/v1beta1`, kind, plural, namespace, logger });
    this.ipAddressPools = crd<IPAddressPool>('IPAddressPool', 'ipaddresspools');
    this.addressPools = crd<AddressPool>('AddressPool', 'addresspools');
    this.l2Advertisements = crd<L2Advertisement>('L2Advertisement', 'l2advertisements');
    this.l2Statuses = crd<ServiceL2Status>('ServiceL2Status', 'servicel2statuses');
  }

  /** Every cache, the Node one included (the membership starts after them, see `Speaker.start`). */
  async waitForSync(signal: AbortSignal): Promise<void> {
    await Promise.all(this.all().map((c) => c.waitForSync(signal)));
  }

  listen(on: CacheListeners): void {
    for (const c of [this.services, this.slices, this.nodes]) c.onChange(on.recompute);
    // The controller writes pool usage into status after every allocation: only a change the
    // config depends on is worth rebuilding it.
    for (const c of [this.ipAddressPools, this.addressPools, this.l2Advertisements])
      c.onChange((_key, obj, prev) => {
        if (!configInputChanged(prev, obj)) return;
        this.built = undefined;
        on.recompute();
      });
    this.l2Statuses.onChange(on.statuses);
  }

  config(): Config {
    if (this.built) return this.built;
    const { config, errors } = this.configState.update({
      addressPools: this.addressPools.list(),
      ipAddressPools: this.ipAddressPools.list(),
      l2Advertisements: this.l2Advertisements.list(),
    });
    // The controller reports these on the objects; the speaker only notes that it saw them.
    if (errors.length > 0)
      this.logger.warn('configuration has invalid objects', { errors: errors.map((e) => e.message) });
    this.clientMetrics.setConfigLoaded(true);
    this.clientMetrics.setConfigStale(errors.length > 0);
    this.built = config;
    return config;
  }

  async stop(): Promise<void> {
    for (const c of this.all()) await c.stop();
  }

  private all() {
    return [
      this.services,
      this.slices,
      this.nodes,
      this.ipAddressPools,
      this.addressPools,
      this.l2Advertisements,
      this.l2Statuses,
    ] as const;
  }
}
