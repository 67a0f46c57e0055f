// What each component may do, as data: every rule says why it exists. The ServiceAccounts,
// (Cluster)Roles and bindings are rendered from these, for the operator to apply, for
// `config/rbac/` (the lab) and for the operator's own install.
import { GROUP } from '@metallb-ts/api';
import { componentMeta } from './labels.js';
import {
  COMPONENTS,
  LEASES,
  MEMBERLIST,
  METALLB_RESOURCE_NAME,
  WEBHOOK,
  type ComponentName,
} from './names.js';
import type {
  ClusterRole,
  ClusterRoleBinding,
  KubeObject,
  PolicyRule,
  Role,
  RoleBinding,
  RoleRef,
  ServiceAccount,
} from './objects.js';

export type Verb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete';

/** A rule and the one line that says why the component needs it. */
export interface Rule {
  readonly apiGroups: readonly string[];
  readonly resources: readonly string[];
  readonly verbs: readonly Verb[];
  /**
   * Limits every verb to these object names. `create` cannot be limited; `list` and `watch` are
   * allowed only to requests that select one of them (`fieldSelector=metadata.name=<name>`).
   */
  readonly resourceNames?: readonly string[];
  readonly why: string;
  /**
   * Why the lab's least-privilege test (e2e/tests/audit) never sees these grants used although
   * the component needs them (a path the lab does not reach). Rendered beside the rule.
   */
  readonly unusedInLab?: string;
  /**
   * Why the rule grants every name although the lab's least-privilege test saw it used for one
   * object only (names the user or an earlier version chose). Rendered beside the rule.
   */
  readonly everyName?: string;
}

/** Cluster-wide rules (ClusterRole) and rules in the install namespace (Role). */
export interface ComponentRules {
  readonly cluster: readonly Rule[];
  readonly namespaced: readonly Rule[];
}

const VERB_ORDER: readonly Verb[] = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'];
// What the components really call (e2e/tests/audit proves it against the API server's audit
// log): caches list and watch, writes are merge patches, the elector reads and replaces.
const CACHE: Verb[] = ['list', 'watch'];

const rule = (
  apiGroups: string[],
  resources: string[],
  verbs: Verb[],
  why: string,
  resourceNames?: string[],
): Rule => ({ apiGroups, resources, verbs, why, ...(resourceNames ? { resourceNames } : {}) });

/** `r`, granting every name for the reason given (see `Rule.everyName`). */
const everyName = (r: Rule, why: string): Rule => ({ ...r, everyName: why });

const eventRules = (who: string): Rule[] => [
  everyName(
    rule(
      [''],
      ['events'],
      ['create', 'patch'],
      `${who} records events (core API; a repeat patches the count)`,
    ),
    'the recorder names each event it creates; a repeat patches it under that name',
  ),
];

/**
 * Leader election on the component's own Lease: `create` (by POST, which names no object, so it
 * cannot be limited by name) when it is missing, everything else on that Lease alone.
 */
const electionRules = (lease: string): Rule[] => [
  rule(['coordination.k8s.io'], ['leases'], ['create'], 'leader election: creates its Lease when missing'),
  rule(
    ['coordination.k8s.io'],
    ['leases'],
    ['get', 'update'],
    'leader election: reads, takes, renews and hands back its Lease, and no other',
    [lease],
  ),
];

/** Pools and advertisements are named by the user. */
const USER_NAMED = 'the user names the pools and advertisements';

/**
 * The controller assigns addresses; it never touches Pods, Nodes or EndpointSlices, and of the
 * Secrets only the gossip key's, which it creates when missing.
 */
export const CONTROLLER_RULES: ComponentRules = {
  cluster: [
    everyName(
      rule([''], ['services'], [...CACHE, 'patch'], 'watches Services and writes its annotations on them'),
      'the user names the Services',
    ),
    rule([''], ['services/status'], ['patch'], "writes the assigned address into a Service's status"),
    ...eventRules('the controller'),
    rule([''], ['namespaces'], CACHE, "matches pools' serviceAllocation namespace selectors"),
  ],
  namespaced: [
    rule([GROUP], ['ipaddresspools', 'addresspools', 'l2advertisements'], CACHE, 'reads the configuration'),
    everyName(
      rule(
        [GROUP],
        ['ipaddresspools', 'addresspools'],
        ['patch'],
        "records a pool's last valid spec in an annotation, so a restart keeps serving it",
      ),
      USER_NAMED,
    ),
    everyName(
      rule(
        [GROUP],
        ['ipaddresspools/status', 'addresspools/status', 'l2advertisements/status'],
        ['patch'],
        'reports whether each object is valid and how many addresses a pool has in use',
      ),
      USER_NAMED,
    ),
    ...electionRules(LEASES.controller),
    {
      ...rule([''], ['secrets'], ['create'], "creates the speakers' gossip key Secret when it is missing"),
      unusedInLab: 'the key exists before the audited workload starts (the first controller start made it)',
    },
    rule(
      [''],
      ['secrets'],
      ['get'],
      "checks at start whether the speakers' gossip key Secret exists, and no other Secret",
      [MEMBERLIST.secret],
    ),
    rule(
      ['apps'],
      ['deployments'],
      ['get'],
      'reads its own Deployment once at start: it owns the gossip key Secret and the Lease, so they go with it',
      [COMPONENTS.controller.workload],
    ),
  ],
};

/** The speaker elects and announces: read-only on the cluster, writes only its own objects. */
export const SPEAKER_RULES: ComponentRules = {
  cluster: [
    rule([''], ['services', 'nodes'], CACHE, 'which Services to announce, on which Nodes'),
    rule(
      ['discovery.k8s.io'],
      ['endpointslices'],
      CACHE,
      'whether a Service has a ready endpoint on this node',
    ),
    ...eventRules('the speaker'),
  ],
  namespaced: [
    rule([GROUP], ['ipaddresspools', 'addresspools', 'l2advertisements'], CACHE, 'reads the configuration'),
    rule(
      [GROUP],
      ['servicel2statuses'],
      [...CACHE, 'create', 'delete'],
      'publishes which node announces which Service',
    ),
    rule(
      [GROUP],
      ['servicel2statuses/status'],
      ['patch'],
      'fills in the status of its ServiceL2Status objects',
    ),
    {
      ...rule(
        [GROUP],
        ['servicel2statuses'],
        ['patch'],
        'hands its ServiceL2Status objects over to its own Pod when a restart finds them owned by the previous one',
      ),
      unusedInLab:
        'a speaker stopped with SIGTERM deletes its objects itself; only a killed speaker whose Pod is then replaced leaves some to hand over, and the audited workload restarts a killed speaker on the same Pod',
    },
    rule(
      [''],
      ['pods'],
      ['get'],
      'reads its own Pod once at start (by POD_NAME): the Pod owns the ServiceL2Status objects it writes',
    ),
    rule(
      [''],
      ['pods'],
      CACHE,
      "finds its gossip peers: the nodes that run a speaker Pod (the DaemonSet's labels)",
    ),
    // Membership is gossip: no Lease per speaker (`MEMBERSHIP=lease` is for unit tests against
    // FakeKube). The one Lease is the tie-break, touched only while gossip reports an exact half.
    {
      ...rule(
        ['coordination.k8s.io'],
        ['leases'],
        ['create'],
        'two-node tie-break: creates the tie-break Lease when a tie finds it missing',
      ),
      unusedInLab:
        'asked only while gossip reports an exact half: the audited kill and restarts may make one for a moment; e2e/tests/membership/two-node ties on purpose',
    },
    {
      ...rule(
        ['coordination.k8s.io'],
        ['leases'],
        ['get', 'update'],
        'two-node tie-break: reads, takes, renews and releases the tie-break Lease, and no other',
        [LEASES.speakerTieBreak],
      ),
      unusedInLab:
        'asked only while gossip reports an exact half: the audited kill and restarts may make one for a moment; e2e/tests/membership/two-node ties on purpose',
    },
    rule([''], ['secrets'], CACHE, 'reads the gossip key (and follows its rotation), and no other Secret', [
      MEMBERLIST.secret,
    ]),
  ],
};

/**
 * What the operator server-side applies, on the names it renders (`renderComponents`) alone:
 * `get` to compare, `patch` to apply, and `create`, because an apply that finds the object
 * missing creates it and the API server authorizes that as `create` too; unlike a POST, such a
 * create names its object, so it can be limited by name (e2e/tests/audit/ssa-create.test.ts
 * proves both against the API server; the audit log records it as a `patch` answered 201).
 */
const applied = (apiGroups: string[], resources: string[], what: string, names: string[]): Rule =>
  rule(
    apiGroups,
    resources,
    ['get', 'create', 'patch'],
    `applies and heals ${what} (server-side apply creates what is missing), and no others`,
    names,
  );

/**
 * The kinds the operator applies, watched by label for drift; `delete` removes what it applied
 * and no longer renders, whatever an earlier version named it.
 */
const watchedAndPruned = (apiGroups: string[], resources: string[], what: string): Rule =>
  everyName(
    rule(
      apiGroups,
      resources,
      ['list', 'watch', 'delete'],
      `watches the ${what} it labelled for drift, and deletes one it applied and no longer renders`,
    ),
    'an earlier version may have applied objects under names this one does not render',
  );

const BOTH = ['controller', 'speaker'] as const;
const named = (pick: (n: (typeof COMPONENTS)[ComponentName]) => string): string[] =>
  BOTH.map((c) => pick(COMPONENTS[c]));

/**
 * What the operator itself does, before the rights it must hold to grant the components theirs.
 * e2e/tests/audit/operator-audit.test.ts compares these with what it used.
 */
export const OPERATOR_OWN_RULES: ComponentRules = {
  cluster: [
    rule(
      ['rbac.authorization.k8s.io'],
      ['clusterroles', 'clusterrolebindings'],
      ['list', 'watch'],
      "watches the components' ClusterRoles and bindings for drift",
    ),
    rule(
      ['rbac.authorization.k8s.io'],
      ['clusterroles', 'clusterrolebindings'],
      ['get', 'create', 'patch', 'delete'],
      "applies and heals the components' ClusterRoles and bindings (server-side apply creates what is missing), and removes them with the MetalLB resource, and no others",
      named((n) => n.clusterRole),
    ),
    rule(
      ['admissionregistration.k8s.io'],
      ['validatingwebhookconfigurations'],
      ['get', 'list', 'watch', 'patch'],
      'watches its own webhook configuration (by name) and patches the CA bundle into it, and no other',
      [WEBHOOK.configuration],
    ),
    rule(
      ['apps'],
      ['deployments'],
      ['list', 'watch'],
      'detects keepalived IP failover (ipfailover) in any namespace',
    ),
  ],
  namespaced: [
    rule(
      [GROUP],
      ['metallbs'],
      CACHE,
      'reconciles the MetalLB resource (and marks any other MetalLB as wrongly named)',
    ),
    rule(
      [GROUP],
      ['metallbs'],
      ['get'],
      'reads the MetalLB resource to report a webhook certificate event on it, and no other',
      [METALLB_RESOURCE_NAME],
    ),
    everyName(
      rule(
        [GROUP],
        ['metallbs'],
        ['patch'],
        'puts its finalizer on the MetalLB resource, and takes it off once the cluster-scoped objects made for it are deleted',
      ),
      'takes a stray finalizer of its own off a MetalLB of another name, which it never acts on',
    ),
    {
      ...rule(
        [GROUP],
        ['metallbs/finalizers'],
        ['update'],
        'sets blockOwnerDeletion in the ownerReferences to the MetalLB resource, which the OwnerReferencesPermissionEnforcement admission plugin (OpenShift) allows only to who may update its finalizers',
        [METALLB_RESOURCE_NAME],
      ),
      unusedInLab:
        'an authorization check inside the API server, never a request of its own, and only by the OwnerReferencesPermissionEnforcement admission plugin, which the lab does not enable',
    },
    rule(
      [GROUP],
      ['metallbs/status'],
      ['patch'],
      'reports Available, Progressing, Degraded and Upgradeable (Degraded on a wrongly named MetalLB)',
    ),
    watchedAndPruned(['apps'], ['deployments', 'daemonsets'], 'Deployments and DaemonSets'),
    applied(['apps'], ['deployments'], 'the controller Deployment', [COMPONENTS.controller.workload]),
    applied(['apps'], ['daemonsets'], 'the speaker DaemonSet', [COMPONENTS.speaker.workload]),
    rule(
      ['apps'],
      ['deployments'],
      ['get'],
      'reads its own Deployment at start: it owns the Lease and the webhook certificate Secret',
      [COMPONENTS.operator.workload],
    ),
    watchedAndPruned([''], ['serviceaccounts', 'services'], 'ServiceAccounts and Services'),
    applied(
      [''],
      ['serviceaccounts'],
      "the components' ServiceAccounts",
      named((n) => n.serviceAccount),
    ),
    applied(
      [''],
      ['services'],
      "the components' metrics Services",
      named((n) => n.metricsService),
    ),
    watchedAndPruned(['rbac.authorization.k8s.io'], ['roles', 'rolebindings'], 'Roles and RoleBindings'),
    applied(
      ['rbac.authorization.k8s.io'],
      ['roles', 'rolebindings'],
      "the components' Roles and bindings",
      named((n) => n.role),
    ),
    rule(
      [''],
      ['secrets'],
      ['create'],
      'the webhook: the leader creates the certificate Secret when it is missing (a POST, which names no object, so it cannot be limited by name)',
    ),
    everyName(
      rule(
        [''],
        ['secrets'],
        ['list', 'watch', 'delete'],
        'watches the Secrets it labelled and deletes one it applied for an earlier version and no longer renders (it renders none today); the webhook: every replica watches the certificate Secret',
      ),
      'an earlier version may have applied Secrets under names this one does not render',
    ),
    rule(
      [''],
      ['secrets'],
      ['get', 'update'],
      'the webhook: the leader reads the certificate Secret, and replaces it to rotate or repair it, and no other Secret',
      [WEBHOOK.certSecret],
    ),
    {
      ...rule(
        [GROUP],
        ['ipaddresspools', 'addresspools'],
        ['list'],
        'the webhook reads the existing pools live to refuse an overlapping one',
      ),
      unusedInLab:
        "the audit's API server never calls the webhook; e2e/tests/webhook routes it to the operator, which lists pools as its ServiceAccount",
    },
    ...eventRules('the operator'),
    ...electionRules(LEASES.operator),
  ],
};

/**
 * The operator applies the components' Roles and ClusterRoles, and Kubernetes refuses to let
 * anyone create a role granting a permission they do not hold themselves (RBAC escalation
 * prevention), unless they have the `escalate` and `bind` verbs, which would let them grant
 * anything. So the operator holds exactly its own rules plus every rule it grants: cluster rules
 * for the ClusterRoles, namespaced ones for the Roles in its namespace. Computed here from the
 * components' rules, so a rule added to a component can never be missing from the operator.
 */
export const OPERATOR_RULES: ComponentRules = {
  cluster: mergeRules([
    { from: 'operator', rules: OPERATOR_OWN_RULES.cluster },
    { from: 'to grant the controller', rules: CONTROLLER_RULES.cluster },
    { from: 'to grant the speaker', rules: SPEAKER_RULES.cluster },
  ]),
  namespaced: mergeRules([
    { from: 'operator', rules: OPERATOR_OWN_RULES.namespaced },
    { from: 'to grant the controller', rules: CONTROLLER_RULES.namespaced },
    { from: 'to grant the speaker', rules: SPEAKER_RULES.namespaced },
  ]),
};

export const RULES: Readonly<Record<ComponentName, ComponentRules>> = {
  operator: OPERATOR_RULES,
  controller: CONTROLLER_RULES,
  speaker: SPEAKER_RULES,
};

/**
 * The union of several rule sets, compacted: per (group, resource, names) the union of verbs,
 * then resources with the same group, verbs and names share one rule. Order follows first sight.
 */
export function mergeRules(sources: readonly { from: string; rules: readonly Rule[] }[]): Rule[] {
  interface Acc {
    group: string;
    resource: string;
    names?: readonly string[];
    verbs: Set<Verb>;
    whys: string[];
  }
  const perResource = new Map<string, Acc>();
  for (const { from, rules } of sources)
    for (const r of rules)
      for (const group of r.apiGroups)
        for (const resource of r.resources) {
          const key = JSON.stringify([group, resource, r.resourceNames ?? null]);
          const acc = perResource.get(key) ?? {
            group,
            resource,
            ...(r.resourceNames ? { names: r.resourceNames } : {}),
            verbs: new Set<Verb>(),
            whys: [],
          };
          for (const v of r.verbs) acc.verbs.add(v);
          const why = from === 'operator' ? r.why : `${from}: ${r.why}`;
          if (!acc.whys.includes(why)) acc.whys.push(why);
          perResource.set(key, acc);
        }
  const grouped = new Map<
    string,
    { group: string; names?: readonly string[]; verbs: Verb[]; resources: string[]; whys: string[] }
  >();
  for (const acc of perResource.values()) {
    const verbs = VERB_ORDER.filter((v) => acc.verbs.has(v));
    const key = JSON.stringify([acc.group, verbs, acc.names ?? null]);
    const g = grouped.get(key) ?? {
      group: acc.group,
      ...(acc.names ? { names: acc.names } : {}),
      verbs,
      resources: [],
      whys: [],
    };
    g.resources.push(acc.resource);
    for (const w of acc.whys) if (!g.whys.includes(w)) g.whys.push(w);
    grouped.set(key, g);
  }
  return [...grouped.values()].map((g) =>
    rule([g.group], g.resources, g.verbs, g.whys.join('; '), g.names ? [...g.names] : undefined),
  );
}

/** The rule as the API server takes it (without the explanation). */
export function policyRule(r: Rule): PolicyRule {
  return {
    apiGroups: [...r.apiGroups],
    resources: [...r.resources],
    verbs: [...r.verbs],
    ...(r.resourceNames ? { resourceNames: [...r.resourceNames] } : {}),
  };
}

/**
 * Whether `rules` let a subject do `verb` on `resource` (e.g. `services/status`) of `group`
 * (`''` for core), optionally on the object `name`. Wildcards are honoured, so a test can
 * also assert that none are used.
 */
export function allows(
  rules: readonly (Rule | PolicyRule)[],
  verb: string,
  group: string,
  resource: string,
  name?: string,
): boolean {
  const has = (list: readonly string[], v: string) => list.includes(v) || list.includes('*');
  return rules.some(
    (r) =>
      has(r.verbs, verb) &&
      has(r.apiGroups, group) &&
      has(r.resources, resource) &&
      (r.resourceNames === undefined ||
        r.resourceNames.length === 0 ||
        (name !== undefined && r.resourceNames.includes(name))),
  );
}

// ---- objects ------------------------------------------------------------------------------------

const RBAC_API = 'rbac.authorization.k8s.io/v1';

export function serviceAccount(
  component: ComponentName,
  namespace: string,
  version?: string,
): ServiceAccount {
  return {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: componentMeta(component, COMPONENTS[component].serviceAccount, namespace, version),
  };
}

export function clusterRole(component: ComponentName, version?: string): ClusterRole {
  return {
    apiVersion: RBAC_API,
    kind: 'ClusterRole',
    metadata: componentMeta(component, COMPONENTS[component].clusterRole, undefined, version),
    rules: RULES[component].cluster.map(policyRule),
  };
}

export function role(component: ComponentName, namespace: string, version?: string): Role {
  return {
    apiVersion: RBAC_API,
    kind: 'Role',
    metadata: componentMeta(component, COMPONENTS[component].role, namespace, version),
    rules: RULES[component].namespaced.map(policyRule),
  };
}

/** What a RoleBinding and a ClusterRoleBinding share: the component's ServiceAccount gets the role. */
function binding(
  component: ComponentName,
  namespace: string,
  version: string | undefined,
  roleKind: RoleRef['kind'],
) {
  const names = COMPONENTS[component];
  const name = roleKind === 'Role' ? names.role : names.clusterRole;
  return {
    metadata: componentMeta(component, name, roleKind === 'Role' ? namespace : undefined, version),
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: roleKind, name },
    subjects: [{ kind: 'ServiceAccount', name: names.serviceAccount, namespace }],
  } satisfies Omit<RoleBinding, 'kind' | 'apiVersion'>;
}

export function clusterRoleBinding(
  component: ComponentName,
  namespace: string,
  version?: string,
): ClusterRoleBinding {
  return {
    apiVersion: RBAC_API,
    kind: 'ClusterRoleBinding',
    ...binding(component, namespace, version, 'ClusterRole'),
  };
}

export function roleBinding(component: ComponentName, namespace: string, version?: string): RoleBinding {
  return { apiVersion: RBAC_API, kind: 'RoleBinding', ...binding(component, namespace, version, 'Role') };
}

/** A component's ServiceAccount, ClusterRole, ClusterRoleBinding, Role and RoleBinding. */
export function componentRbac(component: ComponentName, namespace: string, version?: string): KubeObject[] {
  return [
    serviceAccount(component, namespace, version),
    clusterRole(component, version),
    clusterRoleBinding(component, namespace, version),
    role(component, namespace, version),
    roleBinding(component, namespace, version),
  ];
}
