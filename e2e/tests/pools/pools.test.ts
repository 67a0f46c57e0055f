import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { INSTALL_NAMESPACE } from '../../src/cluster-setup.js';
import { labControlPlane, type ControlPlane } from '../../src/control-plane.js';
import { resetClusterObjects } from '../../src/lab.js';
import { waitFor } from '../../src/wait-for.js';
import { ControllerHarness, ipPool } from '../controller/harness.js';

/*
 * Pool objects explain themselves, against the real API server and the real controller binary:
 * the Valid condition in `kubectl get` printer columns, and the InvalidConfiguration Warning in
 * `kubectl describe` (the event references the pool's uid and apiVersion, so describe finds it).
 */

let cp: ControlPlane;
let h: ControllerHarness;
const NS = `pools-e2e-${Date.now().toString(36)}`;
// Names sort the way they are created: were both created in one second, the older-wins rule
// falls back to the name, and the second pool must still be the one in error.
const VALID = 'a-valid';
const OVERLAP = 'b-overlap';

beforeAll(async () => {
  cp = labControlPlane();
  const dir = cp.dir;
  await resetClusterObjects(cp);
  await cp.kubectlOk(['create', 'namespace', NS]);
  h = new ControllerHarness(cp, dir, NS);
  await h.apply([ipPool(VALID, ['203.0.113.200-203.0.113.203'])]);
  await h.start();
}, 120_000);

afterAll(async () => {
  await h?.stop();
  await cp?.kubectl(['delete', 'namespace', NS, '--ignore-not-found', '--wait=false']);
  await cp?.kubectl(['-n', INSTALL_NAMESPACE, 'delete', 'ipaddresspools.metallb.io', '--all']);
}, 60_000);

/** `kubectl get` output as rows keyed by the header's column names (cells cut at header offsets). */
function table(text: string): Record<string, string>[] {
  const [header = '', ...lines] = text.split('\n').filter((l) => l.trim() !== '');
  const starts = [...header.matchAll(/\S+(?: \S+)*/g)].map((m) => ({ name: m[0], at: m.index ?? 0 }));
  return lines.map((line) =>
    Object.fromEntries(
      starts.map((c, i) => [c.name, line.slice(c.at, starts[i + 1]?.at ?? line.length).trim()]),
    ),
  );
}

async function poolRows(wide = false): Promise<Record<string, string>[]> {
  return table(
    await cp.kubectlOk(['-n', INSTALL_NAMESPACE, 'get', 'ipaddresspools', ...(wide ? ['-o', 'wide'] : [])]),
  );
}

async function waitForRow(
  name: string,
  want: Record<string, string>,
  wide = false,
): Promise<Record<string, string>> {
  return waitFor(
    `ipaddresspool ${name} shows ${JSON.stringify(want)} in kubectl get`,
    async () => {
      const row = (await poolRows(wide)).find((r) => r['NAME'] === name);
      const ok = row !== undefined && Object.entries(want).every(([k, v]) => row[k] === v);
      return ok ? { done: true, value: row } : { done: false, observed: row ?? 'no such row' };
    },
    { timeoutMs: 20_000, intervalMs: 250 },
  );
}

describe('pool objects explain themselves', () => {
  it('a valid pool shows Valid True, reason Serving, next to its usage columns', async () => {
    const row = await h.step('the valid pool is shown valid', () =>
      waitForRow(VALID, { VALID: 'True', REASON: 'Serving' }),
    );
    expect(row['ASSIGNED IPV4']).toBe('0');
    expect(row['AVAILABLE IPV4']).toBe('4');
  }, 40_000);

  it('an overlapping pool shows Valid False with the reason, and describe lists the Warning event', async () => {
    await h.apply([ipPool(OVERLAP, ['203.0.113.202/31'])]);
    const row = await h.step('the overlapping pool is shown invalid', () =>
      waitForRow(OVERLAP, { VALID: 'False', REASON: 'InvalidConfiguration' }, true),
    );
    // The wide output adds the one-line message: which object, field, value and why.
    expect(row['MESSAGE']).toContain(`IPAddressPool ${INSTALL_NAMESPACE}/${OVERLAP}: spec.addresses[0]`);
    expect(row['MESSAGE']).toContain(`overlaps pool "${VALID}"`);
    // The older pool is untouched.
    expect((await poolRows()).find((r) => r['NAME'] === VALID)).toMatchObject({ VALID: 'True' });

    const pool = await h.json<{ metadata: { uid: string } }>([
      '-n',
      INSTALL_NAMESPACE,
      'get',
      'ipaddresspool',
      OVERLAP,
    ]);
    const described = await h.step('kubectl describe lists the Warning event', () =>
      waitFor(
        `kubectl describe ipaddresspool ${OVERLAP} to list the InvalidConfiguration Warning`,
        async () => {
          const text = await cp.kubectlOk(['-n', INSTALL_NAMESPACE, 'describe', 'ipaddresspool', OVERLAP]);
          const events = text.slice(text.lastIndexOf('Events:'));
          return /Warning\s+InvalidConfiguration\s/.test(events)
            ? { done: true, value: events }
            : { done: false, observed: events };
        },
        { timeoutMs: 20_000, intervalMs: 500 },
      ),
    );
    expect(described).toContain(`overlaps pool "${VALID}"`);
    const [event] = (await h.events(OVERLAP, INSTALL_NAMESPACE)).filter(
      (e) => e.reason === 'InvalidConfiguration',
    );
    expect(event?.involvedObject).toEqual({
      apiVersion: 'metallb.io/v1beta1',
      kind: 'IPAddressPool',
      namespace: INSTALL_NAMESPACE,
      name: OVERLAP,
      uid: pool.metadata.uid,
    });
  }, 60_000);

  it('fixing the overlap turns the pool valid', async () => {
    await h.apply([ipPool(OVERLAP, ['203.0.113.210/31'])]);
    await h.step('the fixed pool is shown valid', () =>
      waitForRow(OVERLAP, { VALID: 'True', REASON: 'Serving', 'AVAILABLE IPV4': '2' }),
    );
  }, 40_000);
});
