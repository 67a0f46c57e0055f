export {
  createLogger,
  parseLogLevel,
  serializeError,
  silentLogger,
  type Logger,
  type LoggerOptions,
  type LogLevel,
} from './logger.js';
export {
  KubeError,
  isKubeError,
  isNotFound,
  isConflict,
  isAlreadyExists,
  isForbidden,
  isGone,
  isNetworkError,
} from './kube-error.js';
export {
  objectKey,
  type KubeObject,
  type ManagedFieldsEntry,
  type ObjectMeta,
  type ObjectRef,
  type OwnerReference,
} from './types.js';
export {
  ownedOnlyBy,
  ownerReferenceTo,
  resolveOwner,
  type OwnerReferenceResult,
  type OwnerTarget,
  type ResolveOwnerOptions,
} from './owner.js';
export {
  connect,
  type Kube,
  type ConnectOptions,
  type CallOptions,
  type PatchOptions,
  type PatchType,
  type WriteOptions,
  type ListOptions,
  type DeleteOptions,
  type WatchOptions,
  type WatchEventType,
  type ResourceInfo,
  type ApplyOptions,
  type KubeReader,
  type KubeWriter,
  type KubeWatcher,
  type ListWatcher,
  type CacheFactory,
} from './kube.js';
export {
  ResourceCache,
  cacheFactory,
  type WatchCacheOptions,
  type ChangeListener,
} from './resource-cache.js';
export {
  WorkQueue,
  SyncResult,
  type WorkQueueOptions,
  type RunOptions,
  type SyncHandler,
  type QueueTimers,
} from './work-queue.js';
export {
  createServer,
  type ServerOptions,
  type ProbeServer,
  type Check,
  type CheckFn,
  type CheckOutcome,
} from './server.js';
export { KubeconfigError, type ClientConfig } from './kubeconfig.js';
export {
  recorder,
  eventReference,
  type EventRecorder,
  type EventObjectRef,
  type EventType,
  type RecorderOptions,
} from './event-recorder.js';
export {
  LeaseElector,
  leaseRef,
  type Lease,
  type LeaseSpec,
  type LeaseElectorOptions,
} from './lease-elector.js';
export {
  LeaseHeartbeat,
  LeaseMembership,
  type LeaseHeartbeatOptions,
  type LeaseMembershipOptions,
  type MembershipListener,
} from './lease-heartbeat.js';
export { createRegistry, createK8sClientMetrics, type K8sClientMetrics } from './metrics.js';
export { onShutdown, type ShutdownStep, type ShutdownOptions, type ShutdownHandle } from './shutdown.js';
export { formatTime, formatMicroTime, parseTimeMs } from './time.js';
export type { LooseKubeObject } from './types.js';
export type {
  Service,
  ServicePort,
  Node,
  NodeCondition,
  Namespace,
  EndpointSlice,
  EndpointSliceEndpoint,
} from './core-types.js';
// The components define metrics with prom-client's classes but never import it themselves.
export { Counter, Gauge, Histogram, Registry } from 'prom-client';
export {
  runComponent,
  type CommonSettings,
  type ComponentContext,
  type ComponentOptions,
  type ComponentWork,
  type LeaderElectionSettings,
  type RunningComponent,
} from './component.js';
export { workGroup } from './work-group.js';
export {
  decideStartup,
  startupSettings,
  packageVersion,
  type SettingsResult,
  type StartupInput,
  type StartupDecision,
} from './cli.js';
