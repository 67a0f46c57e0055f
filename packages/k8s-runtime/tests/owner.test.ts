import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { KubeError } from '../src/kube-error.js';
import { createLogger } from '../src/logger.js';
import { ownedOnlyBy, ownerReferenceTo, resolveOwner } from '../src/owner.js';
import { FakeKube } from '../src/testing/index.js';
import type { ObjectRef } from '../src/types.js';

const NS = 'metallb-system';
const DEPLOYMENT = { apiVersion: 'apps/v1', kind: 'Deployment', plural: 'deployments', name: 'controller' };

function logged(): { lines: Record<string, unknown>[]; logger: ReturnType<typeof createLogger> } {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({
    component: 'test',
    level: 'debug',
    write: (l) => void lines.push(JSON.parse(l) as Record<string, unknown>),
  });
  return { lines, logger };
}

describe('ownerReferenceTo', () => {
  it('refers to the object by apiVersion, kind, name and uid, without blocking its deletion', () => {
    expect(
      ownerReferenceTo({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'controller', namespace: NS, uid: 'u-1' },
      }),
    ).toEqual({
      ok: true,
      ref: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'controller', uid: 'u-1' },
    });
  });

  it.each([
    [{ kind: 'Deployment', metadata: { name: 'c', uid: 'u' } }, 'Deployment /c: no apiVersion or kind'],
    [
      { apiVersion: 'v1', kind: 'Pod', metadata: { namespace: NS, uid: 'u' } },
      'Pod metallb-system/(no name)',
    ],
    [{ apiVersion: 'v1', kind: 'Pod', metadata: { namespace: NS, name: 'p' } }, 'metadata.uid is empty'],
  ])('says why there is no reference to %j', (obj, why) => {
    const r = ownerReferenceTo(obj);
    expect(r.ok).toBe(false);
    expect(r.ok ? '' : r.error).toContain(why);
  });
});

describe('ownedOnlyBy', () => {
  const owner = { apiVersion: 'v1', kind: 'Pod', name: 'speaker-a', uid: 'u-a' };
  it.each([
    [undefined, false],
    [[], false],
    [[owner], true],
    [[{ ...owner, uid: 'u-old' }], false],
    [[owner, { ...owner, name: 'speaker-b', uid: 'u-b' }], false],
  ])('%j -> %s', (refs, expected) => {
    expect(ownedOnlyBy(refs, owner)).toBe(expected);
  });
});

describe('resolveOwner', () => {
  it('reads the owner in the namespace and returns the reference to it', async () => {
    const api = new FakeKube();
    api.put({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'controller', namespace: NS } });
    const { logger, lines } = logged();
    const ref = await resolveOwner(api, NS, DEPLOYMENT, { logger });
    expect(ref).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      name: 'controller',
      uid: 'uid-controller',
    });
    expect(lines.map((l) => l['owner'])).toEqual(['Deployment metallb-system/controller']);
  });

  it('without the owner (a process outside a cluster) returns nothing and says so, at once', async () => {
    const api = new FakeKube();
    const { logger, lines } = logged();
    expect(await resolveOwner(api, NS, DEPLOYMENT, { logger })).toBeUndefined();
    expect(api.calls).toEqual(['get Deployment controller']);
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'warn',
        msg: 'no owner for the objects this creates; they will outlive it',
        owner: 'Deployment metallb-system/controller',
        reason: 'it does not exist',
      }),
    ]);
  });

  it('does not retry a forbidden read', async () => {
    let calls = 0;
    const kube = {
      get: async (_ref: ObjectRef) => {
        calls++;
        throw new KubeError({ status: 403, reason: 'Forbidden', message: 'no' });
      },
    };
    const { logger, lines } = logged();
    expect(await resolveOwner(kube as never, NS, DEPLOYMENT, { logger, retryMs: 1 })).toBeUndefined();
    expect(calls).toBe(1);
    expect(lines[0]?.['reason']).toBe('reading it is forbidden');
  });

  it('retries an unreachable API server, then gives up after the attempts', async () => {
    const api = new FakeKube();
    api.put({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'controller', namespace: NS } });
    api.down = true;
    const { logger, lines } = logged();
    expect(await resolveOwner(api, NS, DEPLOYMENT, { logger, attempts: 3, retryMs: 1 })).toBeUndefined();
    expect(api.calls).toHaveLength(3);
    expect(lines[0]?.['reason']).toBe('reading it failed 3 times');

    // Back within the attempts: the owner is found.
    api.calls = [];
    let failures = 2;
    const flaky = {
      get: (ref: ObjectRef) => {
        api.down = failures-- > 0;
        return api.get(ref);
      },
    };
    const ref = await resolveOwner(flaky as never, NS, DEPLOYMENT, { logger, attempts: 3, retryMs: 1 });
    expect(ref?.uid).toBe('uid-controller');
    expect(api.calls).toHaveLength(3);
  });
});

describe('resolveOwner in a process of its own', () => {
  it('keeps the process alive while it waits to retry an API server that does not answer', () => {
    // Before, the pause was an unref'd timer: with nothing else running yet the process ended
    // with code 13 (unsettled top-level await) and printed nothing, as speakers did in the soak
    // when they started during a kube-apiserver restart.
    const root = fileURLToPath(new URL('../../..', import.meta.url));
    const fixture = fileURLToPath(new URL('./fixtures/owner-retry-alone.ts', import.meta.url));
    const r = spawnSync(process.execPath, ['--import', 'tsx', fixture], {
      cwd: root,
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect({ code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr }).toEqual({
      code: 0,
      signal: null,
      stdout: `${JSON.stringify({ reads: 3, uid: 'u-1' })}\n`,
      stderr: '',
    });
  });
});
