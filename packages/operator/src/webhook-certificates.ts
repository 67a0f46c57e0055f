// The leader's webhook certificate loop: one work-queue key, run at start, whenever the cert
// Secret or the ValidatingWebhookConfiguration changes (both watched by name), at the rotation
// time the last pass returned, and with backoff after a failed pass. A repaired or rotated
// Secret is an event on the MetalLB resource (a log line while there is none).
import { setMaxListeners } from 'node:events';
import { GROUP, type MetalLB } from '@metallb-ts/api';
import type { ComponentWork, EventRecorder, Kube, ResourceCache } from '@metallb-ts/k8s-runtime';
import { isNotFound, serializeError, SyncResult, WorkQueue } from '@metallb-ts/k8s-runtime';
import { METALLB_RESOURCE_NAME, WEBHOOK } from '@metallb-ts/manifests';
import {
  WebhookCertReconciler,
  type CertKube,
  type CertReconcilerOptions,
  type SecretAction,
} from './webhook/cert-reconciler.js';
import { certSecretCache, certSecretKey } from './webhook-serving.js';

export interface WebhookCertificatesOptions extends Pick<
  CertReconcilerOptions,
  'namespace' | 'logger' | 'now' | 'generate' | 'validityMs' | 'owner'
> {
  readonly kube: CertKube & Pick<Kube, 'watchCache'>;
  readonly events: EventRecorder;
  /** First retry delay after a failed pass (doubling up to a minute). Default 500 ms. */
  readonly retryBaseMs?: number;
}

/** What a pass did that people should hear about. */
export interface CertificateNote {
  readonly reason: 'Repaired' | 'CertificateRotated';
  readonly message: string;
}

/** Reasons that mean someone (or something) broke the Secret, not that its time came. */
const DRIFT = new Set(['incomplete', 'unreadable', 'key does not match', 'not signed by the CA']);

/**
 * The note for a pass's Secret action: a Secret created where one existed before is a restored
 * deletion; a replaced one is a repair or a rotation by its reason; the first creation and an
 * unchanged Secret are not news.
 */
export function certificateNote(
  action: SecretAction,
  existedBefore: boolean,
  key: string,
): CertificateNote | undefined {
  if (action.action === 'created')
    return existedBefore ? { reason: 'Repaired', message: `restored deleted Secret ${key}` } : undefined;
  if (action.action === 'unchanged' || action.action === 'adopted') return undefined;
  return DRIFT.has(action.reason)
    ? {
        reason: 'Repaired',
        message: `repaired Secret ${key}: ${action.reason}; issued a new webhook certificate`,
      }
    : {
        reason: 'CertificateRotated',
        message: `rotated the webhook certificate in Secret ${key}: ${action.reason}`,
      };
}

/** How long until the next timed pass: until `recheckAt`, at least a second, at most 12 hours. */
export function recheckDelay(recheckAt: Date, now: Date): number {
  return Math.min(Math.max(recheckAt.getTime() - now.getTime(), 1_000), 12 * 3600_000);
}

const KEY = 'webhook-certificate';

export class WebhookCertificates implements ComponentWork {
  private readonly queue: WorkQueue;
  private readonly reconciler: WebhookCertReconciler;
  private readonly secrets: ResourceCache;
  private readonly configurations: ResourceCache;
  private readonly secretKey: string;
  private readonly now: () => Date;
  /** Whether the Secret existed at some point since start: its absence is then a deletion. */
  private hadSecret = false;
  private running: Promise<void> | undefined;
  private started = false;

  constructor(private readonly o: WebhookCertificatesOptions) {
    const { kube, namespace, logger } = o;
    this.now = o.now ?? (() => new Date());
    this.secretKey = certSecretKey(namespace);
    this.reconciler = new WebhookCertReconciler(o);
    this.secrets = certSecretCache(kube, namespace, logger);
    this.configurations = kube.watchCache({
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingWebhookConfiguration',
      plural: 'validatingwebhookconfigurations',
      fieldSelector: `metadata.name=${WEBHOOK.configuration}`,
      logger,
    });
    this.queue = new WorkQueue({ name: KEY, logger, baseDelayMs: o.retryBaseMs ?? 500, maxDelayMs: 60_000 });
  }

  get ready(): boolean {
    return this.started;
  }

  async start(signal: AbortSignal): Promise<void> {
    setMaxListeners(12, signal);
    await Promise.all([this.secrets.waitForSync(signal), this.configurations.waitForSync(signal)]);
    this.hadSecret = this.secrets.get(this.secretKey) !== undefined;
    this.secrets.onChange((key) => {
      if (key === this.secretKey) this.queue.add(KEY);
    });
    this.configurations.onChange((key) => {
      if (key === WEBHOOK.configuration) this.queue.add(KEY);
    });
    this.queue.add(KEY);
    this.running = this.queue.run(() => this.sync());
    this.started = true;
  }

  private async sync(): Promise<SyncResult> {
    let outcome;
    try {
      outcome = await this.reconciler.reconcile();
    } catch (error) {
      return SyncResult.retry(error);
    }
    const note = certificateNote(outcome.secret, this.hadSecret, this.secretKey);
    this.hadSecret = true;
    if (note) await this.report(note);
    return SyncResult.requeueAfter(recheckDelay(outcome.recheckAt, this.now()));
  }

  /** An event on MetalLB/metallb when it exists, else a log line. */
  private async report(note: CertificateNote): Promise<void> {
    const { kube, namespace, logger, events } = this.o;
    let metallb: MetalLB | undefined;
    try {
      metallb = await kube.get<MetalLB>({
        apiVersion: `${GROUP}/v1beta1`,
        kind: 'MetalLB',
        plural: 'metallbs',
        namespace,
        name: METALLB_RESOURCE_NAME,
      });
    } catch (e) {
      if (!isNotFound(e))
        logger.warn('could not read the MetalLB resource for an event', { error: serializeError(e) });
    }
    if (metallb) await events.emit(metallb, 'Normal', note.reason, note.message);
    else logger.info(note.message, { key: this.secretKey, reason: note.reason });
  }

  /** Finishes the pass in flight, then stops the caches. */
  async stop(): Promise<void> {
    await this.queue.shutdown();
    await this.running;
    await Promise.all([this.secrets.stop(), this.configurations.stop()]);
  }
}
