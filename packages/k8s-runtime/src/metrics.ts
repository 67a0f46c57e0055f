import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

/** A fresh registry with the default process metrics (CPU, memory, event loop lag, ...). */
export function createRegistry(opts: { defaultMetrics?: boolean; prefix?: string } = {}): Registry {
  const registry = new Registry();
  if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: opts.prefix ?? '' });
  return registry;
}

/**
 * The MetalLB Kubernetes client metrics (names that dashboards and alerts already use). The
 * components update them; `recordUpdate` counts one processed object update.
 */
export interface K8sClientMetrics {
  readonly updates: Counter;
  readonly updateErrors: Counter;
  readonly configLoaded: Gauge;
  readonly configStale: Gauge;
  /** Counts one processed update; `ok: false` also counts an error. */
  recordUpdate(ok: boolean): void;
  setConfigLoaded(loaded: boolean): void;
  setConfigStale(stale: boolean): void;
}

export function createK8sClientMetrics(registry: Registry): K8sClientMetrics {
  const updates = new Counter({
    name: 'metallb_k8s_client_updates_total',
    help: 'Kubernetes object updates processed, successful or not.',
    registers: [registry],
  });
  const updateErrors = new Counter({
    name: 'metallb_k8s_client_update_errors_total',
    help: 'Kubernetes object updates whose processing failed.',
    registers: [registry],
  });
  const configLoaded = new Gauge({
    name: 'metallb_k8s_client_config_loaded_bool',
    help: '1 once a valid configuration has been loaded.',
    registers: [registry],
  });
  const configStale = new Gauge({
    name: 'metallb_k8s_client_config_stale_bool',
    help: '1 while the running configuration is stale because the latest one was rejected.',
    registers: [registry],
  });
  configLoaded.set(0);
  configStale.set(0);
  return {
    updates,
    updateErrors,
    configLoaded,
    configStale,
    recordUpdate(ok) {
      updates.inc();
      if (!ok) updateErrors.inc();
    },
    setConfigLoaded(loaded) {
      configLoaded.set(loaded ? 1 : 0);
    },
    setConfigStale(stale) {
      configStale.set(stale ? 1 : 0);
    },
  };
}
