import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  isAlreadyExists,
  isNotFound,
  type KubeReader,
  type KubeWriter,
  type Logger,
  type OwnerReference,
} from '@metallb-ts/k8s-runtime';
import { componentMeta, MEMBERLIST } from '@metallb-ts/manifests';

/** Bytes of a new gossip key (HMAC-SHA-256 keys of the hash's size). */
export const MEMBERLIST_KEY_BYTES = 32;

/**
 * The speakers' gossip key Secret, with a fresh random key, owned by `owner` when given.
 *
 * The owner is the controller's Deployment (as MetalLB does it), rather than the operator
 * deleting the Secret when MetalLB/metallb goes: the garbage collector then removes it with the
 * Deployment however the Deployment goes (the operator's cleanup, a `kubectl delete`, an install
 * from config/ without the operator), and no second list of "objects the controller made" has to
 * be kept in step with the controller.
 */
export function memberlistSecret(
  namespace: string,
  owner: OwnerReference | undefined,
  key: Buffer = randomBytes(MEMBERLIST_KEY_BYTES),
) {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      ...componentMeta('speaker', MEMBERLIST.secret, namespace),
      ...(owner ? { ownerReferences: [owner] } : {}),
    },
    type: 'Opaque',
    data: { [MEMBERLIST.key]: key.toString('base64') },
  };
}

/**
 * Creates the gossip key Secret when it is missing, owned by `owner` (never changes an existing
 * one: an operator rotating keys owns it then). Retries with backoff until it exists or `signal`
 * aborts.
 */
export async function ensureMemberlistSecret(
  kube: Pick<KubeReader, 'get'> & Pick<KubeWriter, 'create'>,
  namespace: string,
  logger: Logger,
  signal: AbortSignal,
  owner?: OwnerReference,
): Promise<void> {
  const ref = { apiVersion: 'v1', kind: 'Secret', namespace, name: MEMBERLIST.secret };
  for (let delay = 500; !signal.aborted; delay = Math.min(delay * 2, 30_000)) {
    try {
      await kube.get(ref);
      return;
    } catch (error) {
      if (isNotFound(error)) {
        try {
          await kube.create(memberlistSecret(namespace, owner));
          logger.info('created the speakers gossip key Secret', {
            secret: `${namespace}/${MEMBERLIST.secret}`,
            owner: owner ? `${owner.kind} ${owner.name}` : '(none)',
          });
          return;
        } catch (e) {
          if (isAlreadyExists(e)) return;
          logger.warn('cannot create the gossip key Secret', {
            secret: `${namespace}/${MEMBERLIST.secret}`,
            error: e,
          });
        }
      } else
        logger.warn('cannot read the gossip key Secret', {
          secret: `${namespace}/${MEMBERLIST.secret}`,
          error,
        });
    }
    // Holds the process while it waits (an unref'd timer can let it end unasked) and ends at once
    // when the work stops.
    await sleep(delay, undefined, { signal }).catch(() => undefined);
  }
}
