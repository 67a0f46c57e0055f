// Server-side apply as FakeKube does it: a pure function from the stored object and an applied
// (partial) object to the new stored object or a 409 Conflict.
//
// The approximation, compared with the real API server's structured merge:
// - Ownership is tracked per leaf path: a scalar, an array, null or an empty object is one field
//   (an empty object applied over a non-empty one changes nothing).
//   Arrays are atomic (the real server merges associative lists such as containers by key; here
//   applying a list replaces it whole and its owner owns all of it).
// - Only `Apply` operations own fields. create / replace / merge patches and `put` change values
//   but take no ownership (the real server records them as `Update` managers, which can then
//   conflict with an applier); a field they changed is simply re-applied by its applier.
// - A field this manager applied before and no longer applies is removed unless another manager
//   also owns it; parent objects left empty by a removal are removed too.
// - Ownership is kept in `metadata.managedFields` (one `Apply` entry per manager and subresource,
//   fieldsV1-shaped, without timestamps).
// - Applying the main resource ignores `status`; applying the `status` subresource touches only
//   `status`. `metadata.generation` goes up when anything outside metadata and status changes.
// - A request that changes nothing (values and ownership) is a no-op: no new resourceVersion.
import { isDeepStrictEqual } from 'node:util';
import { KubeError } from '../kube-error.js';
import type { KubeObject, ManagedFieldsEntry } from '../types.js';

export interface ApplyRequest {
  manager: string;
  force: boolean;
  subresource?: string;
}

export type ApplyResult =
  { ok: true; object: KubeObject; changed: boolean } | { ok: false; error: KubeError };

type Path = readonly string[];
type Json = Record<string, unknown>;

/** Set by the server, never owned by a manager. */
const IDENTITY: readonly Path[] = [
  ['apiVersion'],
  ['kind'],
  ['metadata', 'name'],
  ['metadata', 'namespace'],
  ['metadata', 'uid'],
  ['metadata', 'resourceVersion'],
  ['metadata', 'generation'],
  ['metadata', 'creationTimestamp'],
  ['metadata', 'deletionTimestamp'],
  ['metadata', 'managedFields'],
];

const isMap = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;
const key = (p: Path): string => JSON.stringify(p);
const show = (p: Path): string => `.${p.join('.')}`;
const startsWith = (p: Path, prefix: Path): boolean => prefix.every((k, i) => p[i] === k);

/** Every leaf path of `v` with its value. */
function leaves(v: Json, prefix: Path = []): Map<string, { path: Path; value: unknown }> {
  const out = new Map<string, { path: Path; value: unknown }>();
  for (const [k, child] of Object.entries(v)) {
    const path = [...prefix, k];
    if (isMap(child) && Object.keys(child).length > 0)
      for (const [pk, leaf] of leaves(child, path)) out.set(pk, leaf);
    else out.set(key(path), { path, value: child });
  }
  return out;
}

/** The fields an apply request is about: status only for the status subresource, else all but status. */
function inScope(path: Path, subresource: string | undefined): boolean {
  if (IDENTITY.some((id) => startsWith(path, id))) return false;
  return subresource === 'status' ? path[0] === 'status' : path[0] !== 'status';
}

function getAt(obj: Json, path: Path): { found: boolean; value: unknown } {
  let cur: unknown = obj;
  for (const k of path) {
    if (!isMap(cur) || !(k in cur)) return { found: false, value: undefined };
    cur = cur[k];
  }
  return { found: true, value: cur };
}

/** An empty map applied over a map merges into it: nothing changes. */
const mergesAway = (value: unknown, current: unknown): boolean =>
  isMap(value) && Object.keys(value).length === 0 && isMap(current);

function setAt(obj: Json, path: Path, value: unknown): void {
  let cur = obj;
  for (const k of path.slice(0, -1)) {
    if (!isMap(cur[k])) cur[k] = {};
    cur = cur[k] as Json;
  }
  const last = path[path.length - 1]!;
  if (!mergesAway(value, cur[last])) cur[last] = clone(value);
}

/** Removes the field and then every parent it leaves empty (below the top level). */
function removeAt(obj: Json, path: Path): void {
  const parents: Json[] = [obj];
  for (const k of path.slice(0, -1)) {
    const next = parents[parents.length - 1]![k];
    if (!isMap(next)) return;
    parents.push(next);
  }
  delete parents[parents.length - 1]![path[path.length - 1]!];
  for (let i = parents.length - 1; i > 1; i--) {
    if (Object.keys(parents[i]!).length > 0) break;
    delete parents[i - 1]![path[i - 1]!];
  }
}

export function fieldsToPaths(fields: Json | undefined, prefix: Path = []): Path[] {
  const out: Path[] = [];
  for (const [k, child] of Object.entries(fields ?? {})) {
    if (!k.startsWith('f:')) continue;
    const path = [...prefix, k.slice(2)];
    if (isMap(child) && Object.keys(child).length > 0) out.push(...fieldsToPaths(child, path));
    else out.push(path);
  }
  return out;
}

export function pathsToFields(paths: Iterable<Path>): Json {
  const out: Json = {};
  for (const p of paths) {
    let cur = out;
    for (const k of p) {
      const f = `f:${k}`;
      if (!isMap(cur[f])) cur[f] = {};
      cur = cur[f] as Json;
    }
  }
  return out;
}

const sameEntry = (e: ManagedFieldsEntry, manager: string, subresource: string | undefined): boolean =>
  e.manager === manager && e.operation === 'Apply' && (e.subresource ?? undefined) === subresource;

/** Outside metadata and status: what `metadata.generation` counts changes of. */
function specPart(o: Json): Json {
  const { metadata: _m, status: _s, ...rest } = o;
  return rest;
}

/**
 * Applies `applied` for `req.manager`. `current` is the stored object (undefined when missing);
 * the result carries no new resourceVersion, uid or timestamps: the caller adds those.
 */
export function serverSideApply(
  current: KubeObject | undefined,
  applied: KubeObject,
  req: ApplyRequest,
): ApplyResult {
  const what = `${applied.kind ?? '?'} ${applied.metadata?.namespace ? `${applied.metadata.namespace}/` : ''}${applied.metadata?.name ?? '?'}`;
  if (!req.manager)
    return fail(400, 'BadRequest', `apply ${what}: a fieldManager is required for server-side apply`);
  if (!current && req.subresource)
    return fail(404, 'NotFound', `apply ${what}/${req.subresource}: the object does not exist`);
  const wantRv = applied.metadata?.resourceVersion;
  if (current && wantRv && wantRv !== current.metadata?.resourceVersion)
    return fail(409, 'Conflict', `apply ${what}: the object has been modified (resourceVersion ${wantRv})`);

  const before = clone((current ?? {}) as Json);
  const next = clone((current ?? { apiVersion: applied.apiVersion, kind: applied.kind }) as Json);
  const meta = (isMap(next['metadata']) ? next['metadata'] : (next['metadata'] = {})) as Json;
  if (!current) {
    meta['name'] = applied.metadata?.name;
    if (applied.metadata?.namespace) meta['namespace'] = applied.metadata.namespace;
  }
  const entries = clone(current?.metadata?.managedFields ?? []);
  const mine = entries.find((e) => sameEntry(e, req.manager, req.subresource));
  const owned = new Set((mine ? fieldsToPaths(mine.fieldsV1) : []).map(key));
  const others = entries
    .filter((e) => e !== mine)
    .map((e) => ({ entry: e, paths: new Map(fieldsToPaths(e.fieldsV1).map((p) => [key(p), p])) }));

  const want = new Map([...leaves(applied as Json)].filter(([, l]) => inScope(l.path, req.subresource)));

  // A field another manager owns, applied with a different value, is a conflict unless forced.
  const conflicts: string[] = [];
  for (const [k, { path, value }] of want) {
    const cur = getAt(next, path);
    if (cur.found && (isDeepStrictEqual(cur.value, value) || mergesAway(value, cur.value))) continue;
    for (const o of others) {
      if (!o.paths.has(k)) continue;
      if (req.force) o.paths.delete(k);
      else conflicts.push(`conflict with "${o.entry.manager}": ${show(path)}`);
    }
  }
  if (conflicts.length > 0)
    return fail(
      409,
      'Conflict',
      `Apply failed with ${conflicts.length} conflict${conflicts.length > 1 ? 's' : ''}: ${conflicts.join('; ')}`,
    );

  // Fields this manager applied before and no longer applies go, unless someone else owns them.
  for (const k of owned) {
    if (want.has(k)) continue;
    if (others.some((o) => o.paths.has(k))) continue;
    removeAt(next, JSON.parse(k) as Path);
  }
  for (const { path, value } of want.values()) setAt(next, path, value);

  const ownEntry: ManagedFieldsEntry = {
    manager: req.manager,
    operation: 'Apply',
    ...(applied.apiVersion ? { apiVersion: applied.apiVersion } : {}),
    fieldsType: 'FieldsV1',
    fieldsV1: pathsToFields([...want.values()].map((l) => l.path)),
    ...(req.subresource ? { subresource: req.subresource } : {}),
  };
  const managedFields: ManagedFieldsEntry[] = [];
  for (const e of entries) {
    if (e === mine) continue;
    const o = others.find((x) => x.entry === e)!;
    if (o.paths.size === 0) continue; // forced out of every field
    managedFields.push({ ...e, fieldsV1: pathsToFields(o.paths.values()) });
  }
  managedFields.push(ownEntry);
  // Keep the stored order stable, so a repeated apply compares equal.
  managedFields.sort((a, b) =>
    `${a.manager}/${a.subresource ?? ''}`.localeCompare(`${b.manager}/${b.subresource ?? ''}`),
  );
  (next['metadata'] as Json)['managedFields'] = managedFields;

  const changed = !isDeepStrictEqual(before, next);
  if (changed && current && !isDeepStrictEqual(specPart(before), specPart(next)))
    (next['metadata'] as Json)['generation'] = (current.metadata?.generation ?? 1) + 1;
  if (!current) (next['metadata'] as Json)['generation'] = 1;
  return { ok: true, object: next as KubeObject, changed };
}

function fail(status: number, reason: string, message: string): ApplyResult {
  return { ok: false, error: new KubeError({ status, reason, message }) };
}
