// Keeps the webhook's certificate Secret valid and the ValidatingWebhookConfiguration trusting it.
// One level-based pass: read both objects, decide (pure functions in certificates.ts), write what
// differs. Run it at start, whenever either object changes (a deleted or edited Secret is repaired
// on the next pass) and at `recheckAt` (rotation).
import {
  isNotFound,
  ownedOnlyBy,
  type Kube,
  type KubeObject,
  type Logger,
  type OwnerReference,
} from '@metallb-ts/k8s-runtime';
import { APP_NAME, FIELD_MANAGERS, LABELS, WEBHOOK } from '@metallb-ts/manifests';
import {
  bundleFromSecretData,
  bundleProblem,
  caBundleAfterRotation,
  generateCertificates,
  rotationDueAt,
  secretDataFor,
  webhookDnsNames,
  type CertBundle,
  type GenerateOptions,
  type RotationReason,
} from './certificates.js';

/** The calls the reconciler makes; `FakeKube` and the real client both satisfy it. */
export type CertKube = Pick<Kube, 'get' | 'create' | 'replace' | 'patch'>;

export interface CertReconcilerOptions {
  readonly kube: CertKube;
  /** The operator's (and the webhook Service's) namespace. */
  readonly namespace: string;
  readonly logger: Logger;
  readonly now?: () => Date;
  /** Certificate generation (tests pass smaller keys). Default: `generateCertificates`. */
  readonly generate?: (o: GenerateOptions) => CertBundle;
  /** Lifetime of new certificates. Default 365 days. */
  readonly validityMs?: number;
  /**
   * Owns the Secret: the operator's own Deployment, so `helm uninstall` deleting it lets the
   * garbage collector delete the Secret too. Unset (a process outside a cluster): no owner.
   */
  readonly owner?: OwnerReference;
}

export type SecretAction =
  | { action: 'unchanged' }
  | { action: 'created' }
  /** The certificate was fine; the Secret only lacked the owner (made by an earlier version or Deployment). */
  | { action: 'adopted' }
  | { action: 'replaced'; reason: RotationReason | 'incomplete' };

export interface CertReconcileOutcome {
  readonly secret: SecretAction;
  /** Names of the webhooks whose caBundle was written; undefined when the configuration does not exist (yet). */
  readonly patchedWebhooks: readonly string[] | undefined;
  /** What the Secret now holds: the webhook server serves `cert`/`key`. */
  readonly bundle: CertBundle;
  /** When the certificate is due for rotation: run again then, even if nothing changes. */
  readonly recheckAt: Date;
}

interface Secret extends KubeObject {
  type?: string;
  data?: Record<string, string>;
}

interface WebhookEntry {
  name?: string;
  clientConfig?: { caBundle?: string; [k: string]: unknown };
  [k: string]: unknown;
}

interface ValidatingWebhookConfiguration extends KubeObject {
  webhooks?: WebhookEntry[];
}

const SECRET_REF = { apiVersion: 'v1', kind: 'Secret', plural: 'secrets' };
const VWC_REF = {
  apiVersion: 'admissionregistration.k8s.io/v1',
  kind: 'ValidatingWebhookConfiguration',
  plural: 'validatingwebhookconfigurations',
};

/** Rethrows a failed call with what was being done, keeping the API error as the cause. */
async function step<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    throw new Error(`webhook certificates: ${what}: ${e instanceof Error ? e.message : String(e)}`, {
      cause: e,
    });
  }
}

/**
 * The webhooks whose caBundle is not `caBundle` (base64 of the CA PEM), and the list with them
 * set: pure, so the patch is exactly what differs.
 */
export function caBundleChanges(
  webhooks: readonly WebhookEntry[],
  caBundle: string,
): { changed: string[]; webhooks: WebhookEntry[] } {
  const changed: string[] = [];
  const updated = webhooks.map((w, i) => {
    if (w.clientConfig?.caBundle === caBundle) return w;
    changed.push(w.name ?? `webhooks[${i}]`);
    return { ...w, clientConfig: { ...w.clientConfig, caBundle } };
  });
  return { changed, webhooks: updated };
}

export class WebhookCertReconciler {
  private readonly now: () => Date;
  private readonly generate: (o: GenerateOptions) => CertBundle;
  private readonly dnsNames: string[];

  constructor(private readonly o: CertReconcilerOptions) {
    this.now = o.now ?? (() => new Date());
    this.generate = o.generate ?? generateCertificates;
    this.dnsNames = webhookDnsNames(WEBHOOK.service, o.namespace);
  }

  /** One pass; rejects with the step that failed (the caller retries with backoff). */
  async reconcile(): Promise<CertReconcileOutcome> {
    const { secret, bundle } = await this.ensureSecret();
    const patchedWebhooks = await this.ensureCaBundle(bundle.caCert);
    const due = rotationDueAt(bundle.cert) ?? this.now();
    return { secret, patchedWebhooks, bundle, recheckAt: due };
  }

  private fresh(previousCa: string | undefined): CertBundle {
    const now = this.now();
    const made = this.generate({ dnsNames: this.dnsNames, now, validityMs: this.o.validityMs });
    return { ...made, caCert: caBundleAfterRotation(made.caCert, previousCa, now) };
  }

  private secretObject(bundle: CertBundle, current?: Secret): Secret {
    return {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        ...(current?.metadata ?? {}),
        name: WEBHOOK.certSecret,
        namespace: this.o.namespace,
        labels: {
          ...(current?.metadata?.labels ?? {}),
          [LABELS.name]: APP_NAME,
          [LABELS.component]: 'webhook',
          [LABELS.managedBy]: FIELD_MANAGERS.operator,
        },
        ...(this.o.owner ? { ownerReferences: [this.o.owner] } : {}),
      },
      // The type of a Secret cannot change; a hand-made Opaque Secret keeps its type.
      type: current?.type ?? 'kubernetes.io/tls',
      data: secretDataFor(bundle),
    };
  }

  private async ensureSecret(): Promise<{ secret: SecretAction; bundle: CertBundle }> {
    const key = `${this.o.namespace}/${WEBHOOK.certSecret}`;
    const ref = { ...SECRET_REF, namespace: this.o.namespace, name: WEBHOOK.certSecret };
    let current: Secret | undefined;
    try {
      current = await this.o.kube.get<Secret>(ref);
    } catch (e) {
      if (!isNotFound(e)) return step(`read Secret ${key}`, () => Promise.reject(e));
    }
    if (!current) {
      const bundle = this.fresh(undefined);
      await step(`create Secret ${key}`, () => this.o.kube.create(this.secretObject(bundle)));
      this.o.logger.info('webhook certificate created', { key, dnsNames: this.dnsNames });
      return { secret: { action: 'created' }, bundle };
    }
    const stored = bundleFromSecretData(current.data);
    const reason = stored ? bundleProblem(stored, this.now(), this.dnsNames) : 'incomplete';
    if (stored && !reason) {
      const owner = this.o.owner;
      if (!owner || ownedOnlyBy(current.metadata?.ownerReferences, owner))
        return { secret: { action: 'unchanged' }, bundle: stored };
      await step(`set the owner of Secret ${key}`, () =>
        this.o.kube.replace(this.secretObject(stored, current)),
      );
      this.o.logger.info('webhook certificate Secret now owned by', {
        key,
        owner: `${owner.kind} ${owner.name}`,
      });
      return { secret: { action: 'adopted' }, bundle: stored };
    }
    const bundle = this.fresh(stored?.caCert);
    await step(`replace Secret ${key}`, () => this.o.kube.replace(this.secretObject(bundle, current)));
    this.o.logger.info('webhook certificate replaced', { key, reason });
    return { secret: { action: 'replaced', reason: reason! }, bundle };
  }

  private async ensureCaBundle(caCert: string): Promise<string[] | undefined> {
    const name = WEBHOOK.configuration;
    let vwc: ValidatingWebhookConfiguration;
    try {
      vwc = await this.o.kube.get<ValidatingWebhookConfiguration>({ ...VWC_REF, name });
    } catch (e) {
      if (isNotFound(e)) return undefined;
      return step(`read ValidatingWebhookConfiguration ${name}`, () => Promise.reject(e));
    }
    const caBundle = Buffer.from(caCert, 'utf8').toString('base64');
    const { changed, webhooks } = caBundleChanges(vwc.webhooks ?? [], caBundle);
    if (changed.length === 0) return [];
    // A merge patch replaces the list, so it carries the resourceVersion: a concurrent change
    // (the operator applying the configuration) makes it fail with a conflict and the pass retries.
    await step(`patch caBundle of ValidatingWebhookConfiguration ${name}`, () =>
      this.o.kube.patch(
        { ...VWC_REF, name },
        { metadata: { resourceVersion: vwc.metadata?.resourceVersion }, webhooks },
        { type: 'merge', fieldManager: `${FIELD_MANAGERS.operator}-webhook-ca` },
      ),
    );
    this.o.logger.info('webhook caBundle written', { name, webhooks: changed });
    return changed;
  }
}
