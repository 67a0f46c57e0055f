// The client the components connect with: transport, discovery, object client, watch stream and
// cache factory put together behind the `Kube` interface (the union of the narrow ports).
import { Credentials, loadClientConfig } from './credentials.js';
import { Discovery } from './discovery.js';
import { createLogger, parseLogLevel, type Logger } from './logger.js';
import { ObjectClient } from './object-client.js';
import type { KubeReader, KubeWatcher, KubeWriter, ResourceInfo } from './ports.js';
import { cacheFactory, type CacheFactory } from './resource-cache.js';
import { Transport } from './transport.js';
import { WatchStream } from './watch-stream.js';

export type {
  ApplyOptions,
  CallOptions,
  DeleteOptions,
  KubeReader,
  KubeWatcher,
  KubeWriter,
  ListOptions,
  ListWatcher,
  PatchOptions,
  PatchType,
  ResourceInfo,
  WatchEventType,
  WatchOptions,
  WriteOptions,
} from './ports.js';
export type { CacheFactory } from './resource-cache.js';

export interface ConnectOptions {
  /** Path of a kubeconfig; otherwise $KUBECONFIG, ~/.kube/config or in-cluster config. */
  kubeconfig?: string;
  /** Used by the client and, unless they get their own, by its caches. Default: JSON lines on
   * stdout, component `k8s-client`, level from $LOG_LEVEL. */
  logger?: Logger;
  /** Timeout for non-watch requests. Default 30 s. */
  requestTimeoutMs?: number;
  /** Sent as User-Agent. */
  userAgent?: string;
}

/**
 * The whole Kubernetes API as the components see it: every port, plus the server URL, discovery
 * and `close`. All methods reject with `KubeError`; objects are raw JSON as the server sends them.
 * Components should depend on the narrowest port they use instead.
 */
export interface Kube extends KubeReader, KubeWriter, KubeWatcher, CacheFactory {
  /** The API server URL. */
  readonly server: string;
  readonly logger: Logger;
  /** Discovery: plural name and scope of a kind. */
  resource(apiVersion: string, kind: string): Promise<ResourceInfo>;
  /** Closes idle keep-alive connections. */
  close(): void;
}

export function connect(opts: ConnectOptions = {}): Kube {
  const credentials = new Credentials(loadClientConfig(opts.kubeconfig));
  // Reconnects and relists must be visible even when the caller did not pass a logger.
  const logger =
    opts.logger ?? createLogger({ component: 'k8s-client', level: parseLogLevel(process.env['LOG_LEVEL']) });
  const transport = new Transport(credentials, {
    logger,
    requestTimeoutMs: opts.requestTimeoutMs ?? 30_000,
    userAgent: opts.userAgent ?? 'metallb-ts',
  });
  const discovery = new Discovery(transport);
  const objects = new ObjectClient(transport, discovery);
  const stream = new WatchStream(transport, discovery, logger);
  const watch: KubeWatcher['watch'] = (ref, o, onEvent, signal) => stream.watch(ref, o, onEvent, signal);
  const caches = cacheFactory(
    { listWithVersion: (ref, o) => objects.listWithVersion(ref, o), watch },
    { logger },
  );
  return {
    server: transport.server,
    logger,
    get: (ref, o) => objects.get(ref, o),
    list: (ref, o) => objects.list(ref, o),
    listWithVersion: (ref, o) => objects.listWithVersion(ref, o),
    create: (obj, o) => objects.create(obj, o),
    replace: (obj, o) => objects.replace(obj, o),
    patch: (ref, p, o) => objects.patch(ref, p, o),
    apply: (obj, o) => objects.apply(obj, o),
    delete: (ref, o) => objects.delete(ref, o),
    watch,
    watchCache: (o) => caches.watchCache(o),
    resource: (apiVersion, kind) => discovery.resource(apiVersion, kind),
    close: () => transport.close(),
  };
}
