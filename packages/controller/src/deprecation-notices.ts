import { ANNOTATION_PREFIX, LEGACY_ANNOTATION_PREFIX } from '@metallb-ts/api';
import type { Service } from '@metallb-ts/k8s-runtime';
import {
  legacyAnnotationsInUse,
  serviceIntent,
  type IntentOptions,
  type ServiceIntent,
} from './service-intent.js';
import type { ServiceEvent } from './sync-service.js';

/**
 * Tells a user once that a Service still uses the `metallb.universe.tf/` prefix: again only when
 * the set of legacy annotations in effect changes (or the Service is recreated), never on a plain
 * resync. The memory is per process, so a restarted controller reminds once more.
 */
export class DeprecationNotices {
  private readonly told = new Map<string, string>();

  /**
   * The `deprecatedAnnotation` event due for this Service now, if any. Pass the Service's `intent`
   * when it is at hand (the controller computes it once per sync); otherwise it is computed here.
   */
  check(
    key: string,
    svc: Service | undefined,
    opts: IntentOptions = {},
    intent: ServiceIntent | undefined = svc && serviceIntent(svc, opts),
  ): ServiceEvent | undefined {
    if (!svc || intent?.kind === 'ignore') {
      this.told.delete(key);
      return undefined;
    }
    const legacy = legacyAnnotationsInUse(svc);
    if (legacy.length === 0) {
      this.told.delete(key);
      return undefined;
    }
    const signature = `${svc.metadata?.uid ?? ''}|${legacy.join(',')}`;
    if (this.told.get(key) === signature) return undefined;
    this.told.set(key, signature);
    const renamed = legacy.map(
      (k) => `${k} -> ${ANNOTATION_PREFIX}${k.slice(LEGACY_ANNOTATION_PREFIX.length)}`,
    );
    return {
      type: 'Warning',
      reason: 'deprecatedAnnotation',
      message: `annotation prefix ${LEGACY_ANNOTATION_PREFIX} is deprecated; rename ${renamed.join(', ')}`,
    };
  }

  forget(key: string): void {
    this.told.delete(key);
  }
}
