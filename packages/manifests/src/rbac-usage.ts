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

/** One permission a rule grants: a verb on a resource, from the ClusterRole or the Role. */
export interface Grant {
  readonly scope: 'cluster' | 'namespaced';
  readonly verb: string;
  readonly group: string;
  readonly resource: string;
  readonly rule: Rule;
}

export interface UsageReport {
  /** Granted, never used, and no `unusedInLab` reason beside the rule: to remove or justify. */
  readonly unused: Grant[];
  /** Granted, never used, with the reason the rule gives. */
  readonly justified: Grant[];
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
          for (const verb of rule.verbs) out.push({ scope, verb, group, resource, rule });
  return out;
}

/**
 * Whether `use` exercised `grant`: same verb, group and resource; a Role's grant only inside the
 * install namespace (a ClusterRole's anywhere, including across all namespaces).
 */
export function exercises(grant: Grant, use: ApiUse, installNamespace: string): boolean {
  return (
    grant.verb === use.verb &&
    grant.group === use.group &&
    grant.resource === use.resource &&
    (grant.scope === 'cluster' || use.namespace === installNamespace)
  );
}

export function compareUsage(
  rules: ComponentRules,
  uses: readonly ApiUse[],
  installNamespace: string,
): UsageReport {
  const grants = grantsOf(rules);
  const allowed = uses.filter((u) => u.code !== 403);
  const idle = grants.filter((g) => !allowed.some((u) => exercises(g, u, installNamespace)));
  const ungranted = dedupe(allowed.filter((u) => !grants.some((g) => exercises(g, u, installNamespace))));
  return {
    unused: idle.filter((g) => g.rule.unusedInLab === undefined),
    justified: idle.filter((g) => g.rule.unusedInLab !== undefined),
    refused: dedupe(uses.filter((u) => u.code === 403)),
    ungranted,
  };
}

const useKey = (u: ApiUse): string =>
  `${u.verb} ${u.group || 'core'}/${u.resource} ${u.namespace ? `in ${u.namespace}` : 'cluster-wide'}`;

/** The distinct uses (verb, group, resource, namespace, code). */
function dedupe(uses: readonly ApiUse[]): ApiUse[] {
  const seen = new Map<string, ApiUse>();
  for (const u of uses) seen.set(`${useKey(u)} ${u.code}`, u);
  return [...seen.values()];
}

/** A report as lines for a failure message or a log. */
export function describeUsage(component: string, r: UsageReport): string[] {
  const grant = (g: Grant) =>
    `${g.verb} ${g.group || 'core'}/${g.resource} (${g.scope === 'cluster' ? 'ClusterRole' : 'Role'})`;
  return [
    ...r.unused.map((g) => `${component}: granted but never used: ${grant(g)} — rule "${g.rule.why}"`),
    ...r.refused.map((u) => `${component}: refused (403): ${useKey(u)}`),
    ...r.justified.map(
      (g) => `${component}: unused in the lab, justified: ${grant(g)} — ${g.rule.unusedInLab ?? ''}`,
    ),
    ...r.ungranted.map((u) => `${component}: allowed by a default role: ${useKey(u)}`),
  ];
}
