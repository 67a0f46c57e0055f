import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Credentials,
  EXEC_EXPIRY_MARGIN_MS,
  TOKEN_FILE_REFRESH_MS,
  loadClientConfig,
  type RunExec,
} from '../src/credentials.js';
import { KubeconfigError, type ClientConfig } from '../src/kubeconfig.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'credentials-test-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const base: Omit<ClientConfig, 'auth'> = {
  source: 'kubeconfig /k, context "x"',
  server: 'https://192.0.2.1:6443',
  insecureSkipTlsVerify: false,
};

describe('Credentials', () => {
  it('re-reads a token file once it is due, not before', async () => {
    let now = 1_000;
    let token = 'first\n';
    let reads = 0;
    const creds = new Credentials(
      { ...base, auth: { kind: 'tokenFile', file: '/sa/token' } },
      {
        now: () => now,
        readFile: (p) => {
          expect(p).toBe('/sa/token');
          reads++;
          return Buffer.from(token);
        },
      },
    );
    expect((await creds.auth()).headers).toEqual({ Authorization: 'Bearer first' });
    token = 'second';
    now += TOKEN_FILE_REFRESH_MS - 1;
    expect((await creds.auth()).headers).toEqual({ Authorization: 'Bearer first' });
    now += 1;
    expect((await creds.auth()).headers).toEqual({ Authorization: 'Bearer second' });
    expect(reads).toBe(2);
  });

  it('runs an exec plugin once until its credential is about to expire', async () => {
    let now = Date.parse('2026-12-01T10:00:00Z');
    const runs: NodeJS.ProcessEnv[] = [];
    const runExec: RunExec = async (exec, env) => {
      runs.push(env);
      expect(exec.args).toEqual(['get']);
      return JSON.stringify({
        apiVersion: exec.apiVersion,
        kind: 'ExecCredential',
        status: { token: `t${runs.length}`, expirationTimestamp: '2026-12-01T10:05:00Z' },
      });
    };
    const creds = new Credentials(
      {
        ...base,
        auth: {
          kind: 'exec',
          exec: {
            apiVersion: 'client.authentication.k8s.io/v1',
            command: 'plugin',
            args: ['get'],
            env: { REGION: 'test' },
            provideClusterInfo: false,
          },
        },
      },
      { now: () => now, runExec },
    );
    const [a, b] = await Promise.all([creds.auth(), creds.auth()]);
    expect(a.headers).toEqual({ Authorization: 'Bearer t1' });
    expect(b).toBe(a);
    expect(runs[0]?.['REGION']).toBe('test');
    expect(JSON.parse(runs[0]?.['KUBERNETES_EXEC_INFO'] ?? '')).toEqual({
      apiVersion: 'client.authentication.k8s.io/v1',
      kind: 'ExecCredential',
      spec: { interactive: false },
    });
    now = Date.parse('2026-12-01T10:05:00Z') - EXEC_EXPIRY_MARGIN_MS - 1;
    expect((await creds.auth()).headers).toEqual({ Authorization: 'Bearer t1' });
    now += 1;
    expect((await creds.auth()).headers).toEqual({ Authorization: 'Bearer t2' });
    expect(runs).toHaveLength(2);
  });

  it('runs a real plugin command and takes its client certificate', async () => {
    const plugin = join(dir, 'plugin.sh');
    writeFileSync(
      plugin,
      [
        '#!/bin/sh',
        'printf \'{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential",\'',
        'printf \'"status":{"clientCertificateData":"CERT %s","clientKeyData":"KEY"}}\' "$1"',
      ].join('\n'),
    );
    chmodSync(plugin, 0o755);
    const creds = new Credentials({
      ...base,
      auth: {
        kind: 'exec',
        exec: {
          apiVersion: 'client.authentication.k8s.io/v1',
          command: plugin,
          args: ['lab'],
          env: {},
          provideClusterInfo: false,
        },
      },
    });
    const auth = await creds.auth();
    expect(auth.headers).toEqual({});
    expect(auth.cert?.toString()).toBe('CERT lab');
    expect(auth.key?.toString()).toBe('KEY');
  });

  it('names the config and the plugin when the plugin fails', async () => {
    const creds = new Credentials({
      ...base,
      auth: {
        kind: 'exec',
        exec: {
          apiVersion: 'client.authentication.k8s.io/v1',
          command: '/bin/false',
          args: [],
          env: {},
          provideClusterInfo: false,
        },
      },
    });
    const err = await creds.auth().catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(KubeconfigError);
    expect((err as Error).message).toMatch(/^kubeconfig \/k, context "x": exec plugin \/bin\/false: /);
  });

  it('sends basic auth and reads certificate files, naming a missing one', async () => {
    const creds = new Credentials({
      ...base,
      ca: { data: Buffer.from('CA') },
      tlsServerName: 'api.lab',
      auth: { kind: 'basic', username: 'alice', password: 'pw' },
    });
    expect((await creds.auth()).headers).toEqual({
      Authorization: `Basic ${Buffer.from('alice:pw').toString('base64')}`,
    });
    expect(creds.tls()).toEqual({ ca: Buffer.from('CA'), rejectUnauthorized: true, servername: 'api.lab' });
    const missing = new Credentials({ ...base, ca: { file: join(dir, 'nope.crt') }, auth: { kind: 'none' } });
    expect(() => missing.tls()).toThrow(
      `kubeconfig /k, context "x": certificate-authority ${join(dir, 'nope.crt')}: ENOENT`,
    );
  });
});

describe('loadClientConfig', () => {
  const write = (name: string, server: string) => {
    const path = join(dir, name);
    writeFileSync(
      path,
      [
        'current-context: x',
        `clusters: [{name: c, cluster: {server: "${server}"}}]`,
        'contexts: [{name: x, context: {cluster: c}}]',
      ].join('\n'),
    );
    return path;
  };

  it('prefers an explicit path, then the first existing file in $KUBECONFIG', () => {
    const explicit = write('explicit', 'https://192.0.2.10');
    const fromEnv = write('env', 'https://192.0.2.20');
    expect(loadClientConfig(explicit, { KUBECONFIG: fromEnv }).server).toBe('https://192.0.2.10');
    expect(loadClientConfig(undefined, { KUBECONFIG: `${join(dir, 'absent')}:${fromEnv}` }).server).toBe(
      'https://192.0.2.20',
    );
    expect(() => loadClientConfig(undefined, { KUBECONFIG: join(dir, 'absent') })).toThrow(
      'none of these files exists',
    );
    expect(() => loadClientConfig(join(dir, 'absent'))).toThrow(`kubeconfig ${join(dir, 'absent')}: ENOENT`);
  });
});
