import type { ComponentContext } from '@metallb-ts/k8s-runtime';
import { AllocatorMetrics } from './allocator-metrics.js';
import { Controller } from './controller.js';
import { ensureMemberlistSecret } from './memberlist-secret.js';

export interface ControllerWorkOptions {
  namespace: string;
  loadBalancerClass?: string;
}

/**
 * The controller's work for runComponent: a fresh Controller per leadership term (a term after a
 * lost lease starts from what the cluster says, as a restarted process would), with the allocator
 * metrics registered once per process.
 */
export function controllerWork(opts: ControllerWorkOptions): (ctx: ComponentContext) => Controller {
  let allocatorMetrics: AllocatorMetrics | undefined;
  return ({ kube, logger, registry, clientMetrics, events, owner }) =>
    new Controller({
      kube,
      events,
      logger,
      namespace: opts.namespace,
      loadBalancerClass: opts.loadBalancerClass,
      allocatorMetrics: (allocatorMetrics ??= new AllocatorMetrics(registry)),
      clientMetrics,
      ensureSecrets: (signal) => ensureMemberlistSecret(kube, opts.namespace, logger, signal, owner),
    });
}
