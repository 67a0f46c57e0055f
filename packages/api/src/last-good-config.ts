import {
  buildConfig,
  type Config,
  type ObjectError,
  type PoolObjects as ConfigObjects,
} from './build-config.js';

/**
 * Annotation the controller writes on a pool object while it is valid: its spec as JSON. A
 * restarted controller has no memory of earlier versions; when it finds the pool invalid, this is
 * the last valid version to keep serving, so the pool's Services keep their addresses.
 */
export const LAST_VALID_SPEC_ANNOTATION = 'metallb.io/last-valid-spec';

type Kind = keyof ConfigObjects;
const KINDS: Kind[] = ['addressPools', 'ipAddressPools', 'l2Advertisements'];
/** The `kind` an ObjectError carries for each list of ConfigObjects. */
const KIND_NAMES: Record<Kind, string> = {
  addressPools: 'AddressPool',
  ipAddressPools: 'IPAddressPool',
  l2Advertisements: 'L2Advertisement',
};
interface Named {
  metadata?: { namespace?: string; name?: string };
}
const keyOf = (kind: Kind, o: Named) =>
  `${KIND_NAMES[kind]}/${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
/**
 * Objects an error set takes out of use. Partial errors leave the object in use (minus the faulty
 * part, e.g. an advertisement naming a pool that is not there): never a reason to drop or replace it.
 */
const blocking = (errors: ObjectError[]) =>
  new Set(errors.filter((e) => !e.partial).map((e) => `${e.kind}/${e.namespace ?? ''}/${e.name}`));

/**
 * Whether a pool or advertisement object changed in a way the config depends on: its spec,
 * labels (pool selectors), identity (uid), or recorded last valid spec. Status and other
 * bookkeeping (e.g. the controller's own usage writes) never do.
 */
export function configInputChanged(prev: unknown, obj: unknown): boolean {
  return prev === undefined || obj === undefined || configInput(prev) !== configInput(obj);
}

function configInput(o: unknown): string {
  const { spec, metadata } = o as { spec?: unknown; metadata?: Record<string, unknown> };
  const annotations = metadata?.annotations as Record<string, unknown> | undefined;
  return JSON.stringify([
    spec,
    metadata?.labels ?? {},
    metadata?.uid,
    annotations?.[LAST_VALID_SPEC_ANNOTATION],
  ]);
}

export interface ConfigUpdate {
  config: Config;
  /** Every problem with the objects as they are now: report them all to the user. */
  errors: ObjectError[];
  /** Keys of objects that are invalid now but served from their last valid version. */
  stale: string[];
}

/**
 * Turns the pool objects into a config while never letting a bad edit take addresses away: an
 * object that was valid before and is invalid now keeps serving its last valid version (reported
 * as stale), an object never seen valid is left out. Other objects are unaffected either way.
 */
export class LastGoodConfig {
  private good = new Map<string, unknown>();

  update(objs: ConfigObjects): ConfigUpdate {
    const first = buildConfig(objs);
    const bad = blocking(first.errors);
    if (bad.size === 0) {
      this.remember(objs);
      return { config: first.config, errors: first.errors, stale: [] };
    }
    const stale: string[] = [];
    const substituted = this.mapObjects(objs, (kind, o) => {
      const key = keyOf(kind, o);
      if (!bad.has(key)) return o;
      const last = this.good.get(key) ?? (kind === 'l2Advertisements' ? undefined : fromAnnotation(o));
      if (last !== undefined) stale.push(key);
      return last;
    });
    let second = buildConfig(substituted);
    let served = stale;
    const stillBad = blocking(second.errors);
    if (stillBad.size > 0) {
      // A last good version can clash with what changed since (e.g. a new overlapping pool):
      // drop whatever still errs rather than serve a config that fails validation.
      second = buildConfig(
        this.mapObjects(substituted, (kind, o) => (stillBad.has(keyOf(kind, o)) ? undefined : o)),
      );
      served = stale.filter((k) => !stillBad.has(k));
    }
    this.remember(
      this.mapObjects(objs, (kind, o) => (bad.has(keyOf(kind, o)) ? undefined : o)),
      bad,
    );
    return { config: second.config, errors: first.errors, stale: served };
  }

  private remember(valid: ConfigObjects, keepAlso: Set<string> = new Set()): void {
    const next = new Map<string, unknown>();
    for (const kind of KINDS) for (const o of valid[kind] as Named[]) next.set(keyOf(kind, o), o);
    // Invalid objects keep their remembered version; deleted ones are forgotten.
    for (const key of keepAlso) if (this.good.has(key)) next.set(key, this.good.get(key));
    this.good = next;
  }

  private mapObjects(objs: ConfigObjects, fn: (kind: Kind, o: Named) => unknown): ConfigObjects {
    const out = {} as Record<Kind, unknown[]>;
    for (const kind of KINDS)
      out[kind] = (objs[kind] as Named[]).map((o) => fn(kind, o)).filter((o) => o !== undefined);
    return out as unknown as ConfigObjects;
  }
}

/** The object as it was when last valid, per its LAST_VALID_SPEC_ANNOTATION, if it has one. */
function fromAnnotation(o: Named): unknown {
  const text = (o.metadata as { annotations?: Record<string, unknown> } | undefined)?.annotations?.[
    LAST_VALID_SPEC_ANNOTATION
  ];
  if (typeof text !== 'string') return undefined;
  let spec: unknown;
  try {
    spec = JSON.parse(text);
  } catch {
    return undefined;
  }
  // Whatever it says is validated again with everything else; a bad one is simply dropped.
  return typeof spec === 'object' && spec !== null ? { ...o, spec } : undefined;
}
