export {
  createWebhookServer,
  type WebhookServer,
  type WebhookServerOptions,
  type KeyPair,
} from './server.js';
export {
  WebhookCertReconciler,
  caBundleChanges,
  type CertKube,
  type CertReconcilerOptions,
  type CertReconcileOutcome,
  type SecretAction,
} from './cert-reconciler.js';
export {
  SECRET_KEYS,
  DEFAULT_VALIDITY_MS,
  bundleFromSecretData,
  bundleProblem,
  caBundleAfterRotation,
  generateCertificates,
  needsRotation,
  rotationDueAt,
  secretDataFor,
  splitPem,
  webhookDnsNames,
  type CertBundle,
  type GenerateOptions,
  type RotationReason,
} from './certificates.js';
export {
  reviewAdmission,
  kindForPath,
  type ReviewContext,
  type ReviewReply,
  type WebhookKind,
} from './admission-review.js';
export { poolsFromApi, poolsFromCaches, type PoolCacheView } from './pools-from-caches.js';
