// The webhook server as work every operator replica does, leader or not: the API server may call
// any of them through the Service. It serves the certificate the leader keeps in the Secret: a
// watch on that one Secret swaps it in on every change. Pools are read live for each admission,
// so two overlapping pools written back to back cannot both pass.
import type { ComponentWork, Kube, KubeObject, Logger, ResourceCache } from '@metallb-ts/k8s-runtime';
import { WEBHOOK } from '@metallb-ts/manifests';
import { bundleFromSecretData } from './webhook/certificates.js';
import { poolsFromApi } from './webhook/pools-from-caches.js';
import { createWebhookServer, type WebhookServer } from './webhook/server.js';

export interface WebhookServingOptions {
  readonly kube: Pick<Kube, 'watchCache' | 'list'>;
  readonly namespace: string;
  readonly logger: Logger;
  /** `WEBHOOK_PORT`; 0 picks a free port (tests). */
  readonly port: number;
  /** Default 0.0.0.0. */
  readonly host?: string;
}

export interface Secret extends KubeObject {
  data?: Record<string, string>;
}

/** The key of the certificate Secret in a cache of `namespace`. */
export const certSecretKey = (namespace: string): string => `${namespace}/${WEBHOOK.certSecret}`;

/** A watch cache of the one certificate Secret (selected by name: the RBAC rule names it). */
export function certSecretCache(
  kube: Pick<Kube, 'watchCache'>,
  namespace: string,
  logger: Logger,
): ResourceCache<Secret> {
  return kube.watchCache<Secret>({
    apiVersion: 'v1',
    kind: 'Secret',
    plural: 'secrets',
    namespace,
    fieldSelector: `metadata.name=${WEBHOOK.certSecret}`,
    logger,
  });
}

export class WebhookServing implements ComponentWork {
  readonly server: WebhookServer;
  private readonly secrets: ResourceCache<Secret>;
  private readonly logger: Logger;
  private readonly key: string;
  private bound: number | undefined;

  constructor(private readonly o: WebhookServingOptions) {
    this.key = certSecretKey(o.namespace);
    this.logger = o.logger.child({ webhook: `${o.host ?? '0.0.0.0'}:${o.port}` });
    this.server = createWebhookServer({
      namespace: o.namespace,
      listPools: poolsFromApi(o.kube, o.namespace),
      logger: this.logger,
      port: o.port,
      ...(o.host ? { host: o.host } : {}),
    });
    this.secrets = certSecretCache(o.kube, o.namespace, o.logger);
  }

  /** Serving once a certificate is loaded: before that, every TLS handshake fails. */
  get ready(): boolean {
    return this.server.hasCertificate();
  }

  /** Listens, then loads the Secret's certificate now and on every change. */
  async start(signal: AbortSignal): Promise<void> {
    const address = await this.server.listen();
    this.bound = address.port;
    this.logger.info('webhook server listening', { address: `${address.address}:${address.port}` });
    this.secrets.onChange((key, secret) => {
      if (key === this.key) this.load(secret);
    });
    await this.secrets.waitForSync(signal);
    this.load(this.secrets.get(this.key));
  }

  /** The port listened on (after `start`). */
  port(): number {
    if (this.bound === undefined) throw new Error('the webhook server is not listening yet');
    return this.bound;
  }

  private load(secret: Secret | undefined): void {
    // A deleted Secret keeps the certificate in memory: the leader writes a new one in a moment.
    if (!secret) return;
    const bundle = bundleFromSecretData(secret.data);
    if (!bundle) {
      this.logger.warn('webhook certificate Secret is incomplete; keeping the current certificate', {
        key: this.key,
      });
      return;
    }
    const result = this.server.setCertificate({ cert: bundle.cert, key: bundle.key });
    if (!result.ok)
      this.logger.warn('webhook certificate in the Secret is unusable; keeping the current one', {
        key: this.key,
        error: result.error,
      });
  }

  async stop(): Promise<void> {
    await this.secrets.stop();
    await this.server.close();
  }
}
