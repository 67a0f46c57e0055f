import {
  hasCondition,
  LAST_VALID_SPEC_ANNOTATION,
  poolStatusFor,
  setCondition,
  validCondition,
  type ObjectError,
  type PoolObjectKind,
  type PoolStatus,
} from '@metallb-ts/api';
import type { PoolStats } from '@metallb-ts/ipam';

/** A config object as the status writer needs it (IPAddressPool, AddressPool or L2Advertisement). */
export interface PoolObjectView {
  kind: PoolObjectKind;
  apiVersion?: string;
  metadata?: { namespace?: string; name?: string; resourceVersion?: string; generation?: number };
  status?: PoolStatus;
}

/** What the last config build said about the objects, keyed by servedPoolKey. */
export interface ConfigVerdicts {
  /** Every error about the objects as they are now. */
  errors: readonly ObjectError[];
  /** Objects invalid now and served from their last valid version instead. */
  stale: ReadonlySet<string>;
  /** Pool objects whose pool is served (as written or from the last valid version). */
  served: ReadonlySet<string>;
  /**
   * Objects created or edited since that build (their reload is still to come): nothing is known
   * about them yet, so nothing is written. Without this a new pool read as "no errors" (Valid=True)
   * until its reload, and an edited one was stamped with the verdict on its previous spec.
   */
  unread?: ReadonlySet<string>;
}

export interface PoolStatusUpdate {
  kind: PoolObjectKind;
  apiVersion: string;
  namespace: string;
  name: string;
  /** The version of the object the comparison was made against. */
  resourceVersion: string;
  /** The status to merge: usage counts (served pools only) and the conditions. */
  status: PoolStatus;
  /** What was decided, without transition times: equal fingerprints write the same thing. */
  fingerprint: string;
}

const FIELDS = ['assignedIPv4', 'assignedIPv6', 'availableIPv4', 'availableIPv6'] as const;

/**
 * Whether an edit may change what a reload says about the object itself: it is new, or its spec
 * or uid changed. Labels and the recorded last valid spec (the controller's own annotation) do
 * not: the verdict on the spec as written stays what it was.
 */
export function ownVerdictMayChange(prev: unknown, obj: unknown): boolean {
  if (obj === undefined) return false;
  if (prev === undefined) return true;
  const of = (o: unknown) => o as { spec?: unknown; metadata?: { uid?: string } };
  return (
    of(prev).metadata?.uid !== of(obj).metadata?.uid ||
    JSON.stringify(of(prev).spec) !== JSON.stringify(of(obj).spec)
  );
}

/**
 * The spec to record as a pool object's last valid version, or undefined when there is nothing
 * to record: only a pool the last reload served from this very version qualifies. Served from a
 * last valid version (stale), or changed since that reload (`unread`: an edit the reload has not
 * read yet may be invalid), it does not; nor when the annotation already holds it.
 */
export function validSpecToRecord(
  o: {
    kind?: string;
    metadata?: { namespace?: string; name?: string; annotations?: Record<string, string> };
    spec?: unknown;
  },
  verdicts: Pick<ConfigVerdicts, 'served' | 'stale'> & { readonly unread: ReadonlySet<string> },
): string | undefined {
  const id = servedPoolKey(o.kind ?? '', o.metadata?.namespace, o.metadata?.name ?? '');
  if (!verdicts.served.has(id) || verdicts.stale.has(id) || verdicts.unread.has(id)) return undefined;
  const spec = JSON.stringify(o.spec ?? {});
  return o.metadata?.annotations?.[LAST_VALID_SPEC_ANNOTATION] === spec ? undefined : spec;
}

/** The key `served` uses for a pool object: the pool name alone would not tell duplicates apart. */
export const servedPoolKey = (kind: string, namespace: string | undefined, name: string) =>
  `${kind}/${namespace ?? ''}/${name}`;

/**
 * Which config objects need a status write, and what to write: the `Valid` condition (from the
 * object's errors and whether its last valid version is served) whenever it says something new,
 * and for pool objects whose pool is served, usage counts that differ from the allocator's.
 * Objects whose pool is not served (never valid) get no counts: counting nothing for them would
 * read as "empty pool" rather than "broken pool"; their condition says why. `served` holds the
 * servedPoolKey of the objects actually served, so an object that lost a name clash (an
 * AddressPool and an IPAddressPool of one name) is not shown the winner's usage. `now` is the
 * transition time of a condition whose status changes. Objects in `unread` are left alone.
 */
export function poolStatusUpdates(
  objects: readonly PoolObjectView[],
  stats: readonly PoolStats[],
  verdicts: ConfigVerdicts,
  now: string,
): PoolStatusUpdate[] {
  const errorsOf = new Map<string, ObjectError[]>();
  for (const e of verdicts.errors) {
    const key = servedPoolKey(e.kind, e.namespace, e.name);
    errorsOf.set(key, [...(errorsOf.get(key) ?? []), e]);
  }
  const out: PoolStatusUpdate[] = [];
  for (const o of objects) {
    const name = o.metadata?.name;
    if (!name) continue;
    const key = servedPoolKey(o.kind, o.metadata?.namespace, name);
    if (verdicts.unread?.has(key)) continue;
    const usage =
      o.kind !== 'L2Advertisement' && verdicts.served.has(key) ? poolStatusFor(stats, name) : undefined;
    const valid = validCondition({
      errors: errorsOf.get(key) ?? [],
      servingLastValid: verdicts.stale.has(key),
      generation: o.metadata?.generation,
    });
    const usageSame = usage === undefined || FIELDS.every((f) => o.status?.[f] === usage[f]);
    if (usageSame && hasCondition(o.status?.conditions, valid)) continue;
    out.push({
      kind: o.kind,
      apiVersion: o.apiVersion ?? 'metallb.io/v1beta1',
      namespace: o.metadata?.namespace ?? '',
      name,
      resourceVersion: o.metadata?.resourceVersion ?? '',
      status: { ...usage, conditions: setCondition(o.status?.conditions, valid, now) },
      fingerprint: JSON.stringify([usage ?? null, valid]),
    });
  }
  return out;
}
