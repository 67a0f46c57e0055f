import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { apiRequest, type ApiResponse } from '../../src/api-request.js';
import { readAuditLog, serviceAccountUser } from '../../src/audit.js';
import { INSTALL_NAMESPACE } from '../../src/cluster-setup.js';
import { labControlPlane, type ControlPlane } from '../../src/control-plane.js';
import { serviceAccountKubeconfig } from '../../src/credentials.js';
import { waitFor } from '../../src/wait-for.js';

/*
 * The operator's RBAC grants `create` on every kind it only server-side applies, because a
 * server-side apply of a missing object is authorized as `create` as well as `patch` (the audit
 * log records only the `patch`). Proven here against the real API server, with ServiceAccounts
 * whose Roles differ only in `create`:
 * - patch without create: applying a missing object is refused (403) naming create; applying an
 *   existing one succeeds;
 * - patch and create: applying a missing object creates it (201), audited as a patch;
 * - patch on every name, create limited to one: that name is created by apply, any other is
 *   refused naming create, and a POST create even of the granted name is refused (a POST names
 *   no object to match), so the operator's create can be limited to the names it renders.
 * The accounts live in the install namespace (the audit policy logs only its ServiceAccounts);
 * the objects they apply, ServiceAccounts as the operator applies its components', in their own.
 */

jest.setTimeout(90_000);

const NS = `ssa-create-${Date.now().toString(36)}`;
const ACCOUNTS = {
  patchOnly: 'e2e-ssa-patch-only',
  patchCreate: 'e2e-ssa-patch-create',
  namedCreate: 'e2e-ssa-named-create',
} as const;
const NAMED = 'granted-name';
/** How the API server words a refused create (the apply was a PATCH: the verb checked is create). */
const REFUSED_CREATE =
  /^403 serviceaccounts "[a-z-]+" is forbidden: User "[^"]+" cannot create resource "serviceaccounts"/;
let cp: ControlPlane;
const kubeconfigs = new Map<string, string>();
let startedMs = 0;

const role = (name: string, rules: unknown[]) => ({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'Role',
  metadata: { name, namespace: NS },
  rules,
});
const binding = (name: string) => ({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'RoleBinding',
  metadata: { name, namespace: NS },
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
  subjects: [{ kind: 'ServiceAccount', name, namespace: INSTALL_NAMESPACE }],
});
const sa = (verbs: string[], resourceNames?: string[]) => ({
  apiGroups: [''],
  resources: ['serviceaccounts'],
  verbs,
  ...(resourceNames ? { resourceNames } : {}),
});

/** A server-side apply (`PATCH` with an apply patch) of ServiceAccount `name` in NS, as `account`. */
function applyAs(account: string, name: string): Promise<ApiResponse> {
  return apiRequest(
    kubeconfigs.get(account)!,
    'PATCH',
    `/api/v1/namespaces/${NS}/serviceaccounts/${name}?fieldManager=e2e-ssa-probe`,
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace: NS } },
    'application/apply-patch+yaml',
  );
}

const exists = async (name: string): Promise<boolean> =>
  (await cp.kubectl(['-n', NS, 'get', 'serviceaccount', name])).code === 0;

/** What a failure shows: status and the API server's message. */
const shown = (r: ApiResponse): string => {
  try {
    const s = JSON.parse(r.body) as { message?: string; details?: unknown };
    return `${r.status} ${s.message ?? r.body}`;
  } catch {
    return `${r.status} ${r.body}`;
  }
};

beforeAll(async () => {
  cp = labControlPlane();
  await cp.kubectlOk(['create', 'namespace', NS]);
  const objects = [
    role(ACCOUNTS.patchOnly, [sa(['get', 'patch'])]),
    role(ACCOUNTS.patchCreate, [sa(['get', 'patch', 'create'])]),
    role(ACCOUNTS.namedCreate, [sa(['get', 'patch']), sa(['create'], [NAMED])]),
    ...Object.values(ACCOUNTS).map(binding),
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'existing', namespace: NS } },
  ];
  await cp.kubectlOk(['apply', '-f', '-'], {
    input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }),
  });
  for (const account of Object.values(ACCOUNTS)) {
    await cp.kubectlOk(['-n', INSTALL_NAMESPACE, 'create', 'serviceaccount', account]);
    const kc = await serviceAccountKubeconfig(cp, INSTALL_NAMESPACE, account, cp.server.local);
    kubeconfigs.set(account, kc);
    // The authorizer sees new bindings through a cache: wait until this one's `get` is allowed.
    await waitFor(
      `${account} allowed to get ServiceAccounts in ${NS}`,
      async () => {
        const r = await apiRequest(kc, 'GET', `/api/v1/namespaces/${NS}/serviceaccounts/existing`);
        return r.status === 200 ? { done: true, value: undefined } : { done: false, observed: shown(r) };
      },
      { timeoutMs: 15_000, intervalMs: 200 },
    );
  }
  startedMs = Date.now();
}, 60_000);

afterAll(async () => {
  if (!cp) return;
  for (const account of Object.values(ACCOUNTS))
    await cp.kubectl(['-n', INSTALL_NAMESPACE, 'delete', 'serviceaccount', account, '--ignore-not-found']);
  await cp.kubectl(['delete', 'namespace', NS, '--wait=false']);
}, 60_000);

describe('server-side apply of a missing object needs create', () => {
  it('patch without create: a missing object is refused naming create; an existing one is applied', async () => {
    const missing = await applyAs(ACCOUNTS.patchOnly, 'missing');
    expect(shown(missing)).toMatch(/^403 /);
    expect(shown(missing)).toMatch(REFUSED_CREATE);
    console.log(`apply of a missing object with patch but not create: ${shown(missing)}`);
    expect(await exists('missing')).toBe(false);

    expect(shown(await applyAs(ACCOUNTS.patchOnly, 'existing'))).toMatch(/^200 /);
  });

  it('patch and create: a missing object is created, and audited as a patch', async () => {
    expect(shown(await applyAs(ACCOUNTS.patchCreate, 'created'))).toMatch(/^201 /);
    expect(await exists('created')).toBe(true);

    const user = serviceAccountUser(INSTALL_NAMESPACE, ACCOUNTS.patchCreate);
    const audited = await waitFor(
      'the apply of ServiceAccount created in the audit log',
      () => {
        const mine = readAuditLog(cp.auditLog, startedMs).filter(
          (u) => u.user === user && u.resource === 'serviceaccounts' && u.name === 'created',
        );
        return mine.length > 0 ? { done: true, value: mine } : { done: false, observed: mine };
      },
      { timeoutMs: 10_000 },
    );
    expect(audited.map((u) => `${u.verb} ${u.code}`)).toEqual(['patch 201']);
  });

  it('create limited by name: apply creates that name only; a POST create is refused even for it', async () => {
    expect(shown(await applyAs(ACCOUNTS.namedCreate, NAMED))).toMatch(/^201 /);
    expect(await exists(NAMED)).toBe(true);

    const other = await applyAs(ACCOUNTS.namedCreate, 'other-name');
    expect(shown(other)).toMatch(/^403 /);
    expect(shown(other)).toMatch(REFUSED_CREATE);
    expect(await exists('other-name')).toBe(false);

    await cp.kubectlOk(['-n', NS, 'delete', 'serviceaccount', NAMED]);
    const posted = await apiRequest(
      kubeconfigs.get(ACCOUNTS.namedCreate)!,
      'POST',
      `/api/v1/namespaces/${NS}/serviceaccounts`,
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: NAMED, namespace: NS } },
      'application/json',
    );
    expect(shown(posted)).toMatch(
      /^403 serviceaccounts is forbidden: .* cannot create resource "serviceaccounts"/,
    );
    console.log(`POST create of the one name create is limited to: ${shown(posted)}`);
    expect(await exists(NAMED)).toBe(false);
  });
});
