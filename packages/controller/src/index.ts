export {
  serviceIntent,
  currentIngress,
  legacyAnnotationsInUse,
  type ServiceIntent,
  type IntentOptions,
} from './service-intent.js';
export { syncService, restoreService, type ServiceOutcome, type ServiceEvent } from './sync-service.js';
export { DeprecationNotices } from './deprecation-notices.js';
export {
  poolStatusUpdates,
  type ConfigVerdicts,
  type PoolObjectView,
  type PoolStatusUpdate,
} from './pool-status-updates.js';
export { AllocatorMetrics } from './allocator-metrics.js';
export { Controller, type ControllerDeps } from './controller.js';
export { controllerWork, type ControllerWorkOptions } from './controller-work.js';
