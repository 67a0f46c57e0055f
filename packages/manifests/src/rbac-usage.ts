// Least privilege, checked against what a component really did: the requests an API server
// audited for its ServiceAccount on one side, the grants of its generated rules on the other.
// Pure: the e2e least-privilege test feeds it the lab's audit log.
import type { ComponentRules, Rule } from './rbac.js';

/** One request a component made, as the audit log tells it. */
export interface ApiUse {
  readonly verb: string;
  /** '' for the core group. */
  readonly group: string;
  /** With its subresource: `services/status`. */
  readonly resource: string;
  /** Unset for cluster-scoped requests (and for lists or watches across all namespaces). */
  readonly namespace?: string;
  /**
   * The object's name: set for requests on one object, for a create (from its body) and for a
   * list or watch that selects one name (`fieldSelector=metadata.name=<name>`).
   */
  readonly name?: string;
  /** HTTP status of the response. */
  readonly code: number;
}

/**
 * One permission a rule grants: a verb on a resource, from the ClusterRole or the Role; for a
 * rule limited by `resourceNames`, one grant per name.
 */
export interface Grant {
  readonly scope: 'cluster' | 'namespaced';
  readonly verb: string;
  readonly group: string;
  readonly resource: string;
  /** The one object name this grant is limited to; unset when the rule grants every name. */
  readonly name?: string;
  readonly rule: Rule;
}

/** A grant of every name that the requests used for one object only. */
export interface OneName {
  readonly grant: Grant;
  readonly name: string;
}

export interface UsageReport {
  /** Granted, never used, and no `unusedInLab` reason beside the rule: to remove or justify. */
  readonly unused: Grant[];
  /** Granted, never used, with the reason the rule gives. */
  readonly justified: Grant[];
  /**
   * Granting every name, used for one name only, with no reason beside the rule (`everyName`):
   * to limit by name or justify.
   */
  readonly oneName: OneName[];
  /** The same with a reason: the rule's `everyName`, or a create that names no object. */
  readonly oneNameJustified: (OneName & { readonly why: string })[];
  /** Requests the API server refused (403): a grant is missing. */
  readonly refused: ApiUse[];
  /** Requests that succeeded without any of our grants (allowed by a default role, e.g. discovery). */
  readonly ungranted: ApiUse[];
}

export function grantsOf(rules: ComponentRules): Grant[] {
  const out: Grant[] = [];
  for (const [scope, list] of [
    ['cluster', rules.cluster],
    ['namespaced', rules.namespaced],
  ] as const)
    for (const rule of list)
      for (const group of rule.apiGroups)
        for (const resource of rule.resources)
          for (const verb of rule.verbs)
            if (rule.resourceNames?.length)
              for (const name of rule.resourceNames) out.push({ scope, verb, group, resource, name, rule });
            else out.push({ scope, verb, group, resource, rule });
  return out;
}

/**
 * A server-side apply that created its object: the audit log records a `patch` answered 201, and
 * the API server authorized it as `create` as well (e2e/tests/audit/ssa-create.test.ts).
 */
const appliedCreate = (use: ApiUse): boolean => use.verb === 'patch' && use.code === 201;

/**
 * Whether `use` exercised `grant`: same verb (a `create` also by a server-side apply that created
 * the object), group and resource; a Role's grant only inside the install namespace (a
 * ClusterRole's anywhere, including across all namespaces); a grant limited to a name only by a
 * request naming that object (a list or watch by selecting it).
 */
export function exercises(grant: Grant, use: ApiUse, installNamespace: string): boolean {
  return (
    (grant.verb === use.verb || (grant.verb === 'create' && appliedCreate(use))) &&
    grant.group === use.group &&
    grant.resource === use.resource &&
    (grant.scope === 'cluster' || use.namespace === installNamespace) &&
    (grant.name === undefined || grant.name === use.name)
  );
}

/**
 * Why a create named one object although its rule grants every name, when the reason is
 * Kubernetes': a POST create names no object until its body is read, so a rule limited by name
 * never allows it. (A server-side apply that creates does name it, and can be limited.)
 */
const POSTED_CREATE = 'create by POST names no object, so it cannot be limited by name';

export function compareUsage(
  rules: ComponentRules,
  uses: readonly ApiUse[],
  installNamespace: string,
): UsageReport {
  const grants = grantsOf(rules);
  const allowed = uses.filter((u) => u.code !== 403);
  const usesOf = (g: Grant) => allowed.filter((u) => exercises(g, u, installNamespace));
  const idle: Grant[] = [];
  const oneName: OneName[] = [];
  const oneNameJustified: (OneName & { why: string })[] = [];
  for (const g of grants) {
    const mine = usesOf(g);
    if (mine.length === 0) {
      idle.push(g);
      continue;
    }
    if (g.name !== undefined) continue;
    const names = new Set(mine.map((u) => u.name ?? ''));
    const [only] = names;
    if (names.size !== 1 || !only) continue;
    const why = g.rule.everyName ?? (mine.some((u) => u.verb === 'create') ? POSTED_CREATE : undefined);
    if (why === undefined) oneName.push({ grant: g, name: only });
    else oneNameJustified.push({ grant: g, name: only, why });
  }
  const ungranted = dedupe(allowed.filter((u) => !grants.some((g) => exercises(g, u, installNamespace))));
  return {
    unused: idle.filter((g) => g.rule.unusedInLab === undefined),
    justified: idle.filter((g) => g.rule.unusedInLab !== undefined),
    oneName,
    oneNameJustified,
    refused: dedupe(uses.filter((u) => u.code === 403)),
    ungranted,
  };
}

const useKey = (u: ApiUse): string =>
  `${u.verb} ${u.group || 'core'}/${u.resource}${u.name ? ` "${u.name}"` : ''} ${u.namespace ? `in ${u.namespace}` : 'cluster-wide'}`;

/** The distinct uses (verb, group, resource, name, namespace, code). */
function dedupe(uses: readonly ApiUse[]): ApiUse[] {
  const seen = new Map<string, ApiUse>();
  for (const u of uses) seen.set(`${useKey(u)} ${u.code}`, u);
  return [...seen.values()];
}

/** A report as lines for a failure message or a log. */
export function describeUsage(component: string, r: UsageReport): string[] {
  const grant = (g: Grant) =>
    `${g.verb} ${g.group || 'core'}/${g.resource}${g.name === undefined ? '' : ` "${g.name}"`} (${g.scope === 'cluster' ? 'ClusterRole' : 'Role'})`;
  return [
    ...r.unused.map((g) => `${component}: granted but never used: ${grant(g)} — rule "${g.rule.why}"`),
    ...r.oneName.map(
      (o) =>
        `${component}: granted for every name but used for "${o.name}" only: ${grant(o.grant)} — rule "${o.grant.rule.why}"`,
    ),
    ...r.refused.map((u) => `${component}: refused (403): ${useKey(u)}`),
    ...r.justified.map(
      (g) => `${component}: unused in the lab, justified: ${grant(g)} — ${g.rule.unusedInLab ?? ''}`,
    ),
    ...r.oneNameJustified.map(
      (o) =>
        `${component}: granted for every name, used for "${o.name}" only, justified: ${grant(o.grant)} — ${o.why}`,
    ),
    ...r.ungranted.map((u) => `${component}: allowed by a default role: ${useKey(u)}`),
  ];
}
