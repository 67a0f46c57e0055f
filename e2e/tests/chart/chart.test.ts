import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { CHART, helm } from '../../../packages/ship/src/tools.js';
import { labControlPlane, type ControlPlane } from '../../src/control-plane.js';

/*
 * The chart against the real API server, as a user runs it: `helm install` creates every object
 * `helm template` renders for the same values, `helm upgrade` with changed values changes them, a
 * values file of the wrong type is refused with the value's name, `helm uninstall` removes them.
 * The operator does not run as a pod (the lab has no kubelet): objects, not pods, are checked.
 */

let cp: ControlPlane;
const NS = 'metallb-chart-e2e';
const RELEASE = 'mlb';

interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
}

const kubeconfig = () => ['--kubeconfig', cp.adminKubeconfig];
const helmOk = (args: string[]) => {
  const r = helm([...args, ...kubeconfig()]);
  if (r.code !== 0) throw new Error(`helm ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
};

/** What the chart renders for these --set flags (the CRDs excluded: helm never deletes them). */
function rendered(set: string[] = []): Obj[] {
  return parseAllDocuments(helmOk(['template', RELEASE, CHART, '--namespace', NS, ...set]))
    .map((d) => d.toJS() as Obj | null)
    .filter((o): o is Obj => o !== null);
}

async function exists(o: Obj): Promise<boolean> {
  const r = await cp.kubectl([
    'get',
    o.kind.toLowerCase() + (o.apiVersion.includes('/') ? `.${o.apiVersion.split('/')[0]}` : ''),
    o.metadata.name,
    ...(o.metadata.namespace ? ['-n', o.metadata.namespace] : []),
    '-o',
    'name',
  ]);
  return r.code === 0;
}

beforeAll(() => {
  cp = labControlPlane();
});

afterAll(async () => {
  if (cp) {
    helm(['uninstall', RELEASE, '-n', NS, '--ignore-not-found', ...kubeconfig()]);
    await cp.kubectl(['delete', 'namespace', NS, '--ignore-not-found', '--wait=false']);
  }
}, 120_000);

describe('the chart against the API server', () => {
  it('helm install creates every object the chart renders', async () => {
    helmOk(['install', RELEASE, CHART, '--namespace', NS, '--create-namespace']);
    const objs = rendered();
    expect(objs.map((o) => o.kind)).toEqual(
      expect.arrayContaining(['Deployment', 'ValidatingWebhookConfiguration']),
    );
    const missing: string[] = [];
    for (const o of objs) if (!(await exists(o))) missing.push(`${o.kind}/${o.metadata.name}`);
    expect(missing).toEqual([]);
    const notes = helmOk(['get', 'notes', RELEASE, '-n', NS]);
    expect(notes).toContain(`namespace: ${NS}`);
    expect(notes).toContain('kind: MetalLB');
  }, 120_000);

  it('helm upgrade with changed values changes the objects', async () => {
    helmOk([
      'upgrade',
      RELEASE,
      CHART,
      '--namespace',
      NS,
      '--set',
      'operator.replicas=2',
      '--set',
      'operator.logLevel=debug',
      '--set',
      'speaker.image.tag=v2',
    ]);
    const d = JSON.parse(await cp.kubectlOk(['-n', NS, 'get', 'deployment', 'operator', '-o', 'json'])) as {
      spec: {
        replicas: number;
        template: { spec: { containers: { env: { name: string; value?: string }[] }[] } };
      };
    };
    expect(d.spec.replicas).toBe(2);
    const env = Object.fromEntries(d.spec.template.spec.containers[0]!.env.map((e) => [e.name, e.value]));
    expect(env).toMatchObject({ LOG_LEVEL: 'debug', SPEAKER_IMAGE: 'metallb-ts/speaker:v2' });
  }, 120_000);

  it('a values file of the wrong type is refused with the value named, and the release stays', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'chart-e2e-')), 'values.yaml');
    writeFileSync(file, 'operator:\n  replicas: two\n');
    const r = helm(['upgrade', RELEASE, CHART, '--namespace', NS, '-f', file, ...kubeconfig()]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('replicas');
    const d = JSON.parse(await cp.kubectlOk(['-n', NS, 'get', 'deployment', 'operator', '-o', 'json'])) as {
      spec: { replicas: number };
    };
    expect(d.spec.replicas).toBe(2);
  }, 120_000);

  it('helm uninstall removes them (the CRDs stay, as helm keeps CRDs)', async () => {
    const objs = rendered();
    helmOk(['uninstall', RELEASE, '-n', NS, '--wait', '--timeout', '60s']);
    const left: string[] = [];
    for (const o of objs) if (await exists(o)) left.push(`${o.kind}/${o.metadata.name}`);
    expect(left).toEqual([]);
    expect((await cp.kubectl(['get', 'crd', 'ipaddresspools.metallb.io'])).code).toBe(0);
  }, 120_000);
});
