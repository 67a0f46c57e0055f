// Where the client connects and how it proves who it is, decided from a kubeconfig's text or the
// in-cluster environment. Pure: no file is read and no command run here (credentials.ts does that),
// so every rule is testable with fixture text. Only what a client of one API server needs is kept.
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse } from 'yaml';

/** Bytes given inline (`*-data`, base64-decoded) or a file to read (absolute path). */
export type Material = { readonly data: Buffer } | { readonly file: string };

/** An exec credential plugin (`users[].user.exec`). */
export interface ExecConfig {
  readonly apiVersion: string;
  /** A bare name is looked up in PATH; a relative path was resolved against the kubeconfig's folder. */
  readonly command: string;
  readonly args: readonly string[];
  /** Added to (and overriding) the client's own environment. */
  readonly env: Readonly<Record<string, string>>;
  /** Sent to the plugin in `KUBERNETES_EXEC_INFO` when `provideClusterInfo` is set. */
  readonly provideClusterInfo: boolean;
}

export type AuthConfig =
  | { readonly kind: 'none' }
  | { readonly kind: 'token'; readonly token: string }
  /** Re-read now and then: projected ServiceAccount tokens rotate. */
  | { readonly kind: 'tokenFile'; readonly file: string }
  | { readonly kind: 'basic'; readonly username: string; readonly password: string }
  | { readonly kind: 'exec'; readonly exec: ExecConfig };

export interface ClientConfig {
  /** Where this came from, for messages: `kubeconfig /x/config, context "c"` or `in-cluster`. */
  readonly source: string;
  /** The API server URL without a trailing slash. */
  readonly server: string;
  readonly ca?: Material;
  readonly insecureSkipTlsVerify: boolean;
  readonly tlsServerName?: string;
  readonly clientCertificate?: Material;
  readonly clientKey?: Material;
  readonly auth: AuthConfig;
}

/** A configuration that cannot be used, naming the file, context and field. */
export class KubeconfigError extends Error {
  override readonly name = 'KubeconfigError';
}

/** The ServiceAccount files every pod gets. */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** In-cluster config from the environment the kubelet sets, or undefined outside a pod. */
export function inClusterConfig(
  env: Readonly<Record<string, string | undefined>>,
  dir: string = SERVICE_ACCOUNT_DIR,
): ClientConfig | undefined {
  const host = env['KUBERNETES_SERVICE_HOST'];
  const port = env['KUBERNETES_SERVICE_PORT'];
  if (!host || !port) return undefined;
  const hostPart = host.includes(':') ? `[${host}]` : host;
  return {
    source: 'in-cluster',
    server: `https://${hostPart}:${port}`,
    ca: { file: `${dir}/ca.crt` },
    insecureSkipTlsVerify: false,
    auth: { kind: 'tokenFile', file: `${dir}/token` },
  };
}

/** The files `$KUBECONFIG` names (path-list, first mention of a name wins), else `~/.kube/config`. */
export function kubeconfigPaths(env: Readonly<Record<string, string | undefined>>, home: string): string[] {
  const list = env['KUBECONFIG'];
  if (list) return [...new Set(list.split(':').filter((p) => p !== ''))];
  return [resolve(home, '.kube', 'config')];
}

/** One kubeconfig file's text and path. */
export interface KubeconfigFile {
  readonly path: string;
  readonly text: string;
}

interface Named {
  readonly value: Record<string, unknown>;
  /** The file this entry came from: relative paths in it are relative to that file's folder. */
  readonly file: string;
}

/**
 * The client config of `context` (default: the `current-context`) in the given kubeconfig files,
 * merged as kubectl does: the first file that sets `current-context` wins, and so does the first
 * cluster, user or context of each name.
 */
export function resolveKubeconfig(files: readonly KubeconfigFile[], context?: string): ClientConfig {
  const where = files.map((f) => f.path).join(':') || '(no file)';
  const clusters = new Map<string, Named>();
  const users = new Map<string, Named>();
  const contexts = new Map<string, Named>();
  let current: string | undefined;
  for (const f of files) {
    const doc = parseDocument(f);
    if (current === undefined && typeof doc['current-context'] === 'string' && doc['current-context'] !== '')
      current = doc['current-context'];
    collect(doc, 'clusters', 'cluster', f.path, clusters);
    collect(doc, 'users', 'user', f.path, users);
    collect(doc, 'contexts', 'context', f.path, contexts);
  }
  const name = context ?? current;
  if (name === undefined) throw new KubeconfigError(`kubeconfig ${where}: no current-context is set`);
  const ctx = contexts.get(name);
  if (!ctx) throw new KubeconfigError(`kubeconfig ${where}: context "${name}" is not defined`);
  const source = `kubeconfig ${ctx.file}, context "${name}"`;
  const clusterName = stringField(ctx.value, 'cluster', `${source}: context.cluster`);
  if (clusterName === undefined) throw new KubeconfigError(`${source}: context.cluster is not set`);
  const cluster = clusters.get(clusterName);
  if (!cluster) throw new KubeconfigError(`${source}: cluster "${clusterName}" is not defined`);
  const userName = stringField(ctx.value, 'user', `${source}: context.user`);
  const user = userName === undefined ? undefined : users.get(userName);
  if (userName !== undefined && userName !== '' && !user)
    throw new KubeconfigError(`${source}: user "${userName}" is not defined`);

  const c = cluster.value;
  const cf = (field: string) => `kubeconfig ${cluster.file}, cluster "${clusterName}": ${field}`;
  const server = stringField(c, 'server', cf('server'));
  if (!server) throw new KubeconfigError(`${cf('server')} is not set`);
  try {
    const url = new URL(server);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('not http(s)');
  } catch {
    throw new KubeconfigError(`${cf('server')} "${server}" is not an http(s) URL`);
  }
  const u = user?.value ?? {};
  const uf = (field: string) => `kubeconfig ${user?.file ?? ctx.file}, user "${userName}": ${field}`;
  const tlsServerName = stringField(c, 'tls-server-name', cf('tls-server-name'));
  const clientCertificate = material(u, 'client-certificate', user?.file ?? ctx.file, uf);
  const clientKey = material(u, 'client-key', user?.file ?? ctx.file, uf);
  if ((clientCertificate === undefined) !== (clientKey === undefined))
    throw new KubeconfigError(
      `${uf(clientCertificate ? 'client-key' : 'client-certificate')} is missing (both or neither must be set)`,
    );
  const ca = material(c, 'certificate-authority', cluster.file, cf);
  return {
    source,
    server: server.replace(/\/+$/, ''),
    ...(ca ? { ca } : {}),
    insecureSkipTlsVerify: booleanField(c, 'insecure-skip-tls-verify', cf('insecure-skip-tls-verify')),
    ...(tlsServerName ? { tlsServerName } : {}),
    ...(clientCertificate ? { clientCertificate } : {}),
    ...(clientKey ? { clientKey } : {}),
    auth: authOf(u, user?.file ?? ctx.file, uf),
  };
}

function parseDocument(f: KubeconfigFile): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = parse(f.text);
  } catch (e) {
    throw new KubeconfigError(`kubeconfig ${f.path}: not valid YAML: ${(e as Error).message}`);
  }
  if (doc === null || doc === undefined) return {};
  if (!isRecord(doc)) throw new KubeconfigError(`kubeconfig ${f.path}: the document is not a mapping`);
  return doc;
}

function collect(
  doc: Record<string, unknown>,
  list: string,
  inner: string,
  file: string,
  into: Map<string, Named>,
): void {
  const entries = doc[list];
  if (entries === undefined || entries === null) return;
  if (!Array.isArray(entries)) throw new KubeconfigError(`kubeconfig ${file}: ${list} is not a list`);
  entries.forEach((entry: unknown, i) => {
    const at = `kubeconfig ${file}: ${list}[${i}]`;
    if (!isRecord(entry) || typeof entry['name'] !== 'string') throw new KubeconfigError(`${at} has no name`);
    const value = entry[inner] ?? {};
    if (!isRecord(value)) throw new KubeconfigError(`${at} ("${entry['name']}").${inner} is not a mapping`);
    if (!into.has(entry['name'])) into.set(entry['name'], { value, file });
  });
}

function authOf(u: Record<string, unknown>, file: string, uf: (f: string) => string): AuthConfig {
  const token = stringField(u, 'token', uf('token'));
  if (token) return { kind: 'token', token };
  const tokenFile = stringField(u, 'tokenFile', uf('tokenFile'));
  if (tokenFile) return { kind: 'tokenFile', file: relativeTo(file, tokenFile) };
  const username = stringField(u, 'username', uf('username'));
  if (username) {
    const password = stringField(u, 'password', uf('password')) ?? '';
    return { kind: 'basic', username, password };
  }
  const exec = u['exec'];
  if (exec !== undefined && exec !== null) return { kind: 'exec', exec: execOf(exec, file, uf) };
  for (const unsupported of ['auth-provider', 'as', 'impersonate'])
    if (u[unsupported] !== undefined) throw new KubeconfigError(`${uf(unsupported)} is not supported`);
  return { kind: 'none' };
}

function execOf(exec: unknown, file: string, uf: (f: string) => string): ExecConfig {
  if (!isRecord(exec)) throw new KubeconfigError(`${uf('exec')} is not a mapping`);
  const apiVersion = stringField(exec, 'apiVersion', uf('exec.apiVersion'));
  if (!apiVersion || !EXEC_API_VERSIONS.includes(apiVersion))
    throw new KubeconfigError(
      `${uf('exec.apiVersion')} "${apiVersion ?? ''}" is not one of ${EXEC_API_VERSIONS.join(', ')}`,
    );
  const command = stringField(exec, 'command', uf('exec.command'));
  if (!command) throw new KubeconfigError(`${uf('exec.command')} is not set`);
  const args = exec['args'] ?? [];
  if (!Array.isArray(args) || !args.every((a): a is string => typeof a === 'string'))
    throw new KubeconfigError(`${uf('exec.args')} is not a list of strings`);
  const envList = exec['env'] ?? [];
  if (!Array.isArray(envList)) throw new KubeconfigError(`${uf('exec.env')} is not a list`);
  const env: Record<string, string> = {};
  envList.forEach((e: unknown, i) => {
    if (!isRecord(e) || typeof e['name'] !== 'string' || typeof e['value'] !== 'string')
      throw new KubeconfigError(`${uf(`exec.env[${i}]`)} needs a string name and value`);
    env[e['name']] = e['value'];
  });
  // Like kubectl: a command with a path separator is relative to the kubeconfig, a bare name uses PATH.
  const resolved = command.includes('/') ? relativeTo(file, command) : command;
  return {
    apiVersion,
    command: resolved,
    args,
    env,
    provideClusterInfo: booleanField(exec, 'provideClusterInfo', uf('exec.provideClusterInfo')),
  };
}

export const EXEC_API_VERSIONS = ['client.authentication.k8s.io/v1', 'client.authentication.k8s.io/v1beta1'];

/** `<field>-data` (base64) wins over `<field>` (a path, relative to the kubeconfig's folder). */
function material(
  obj: Record<string, unknown>,
  field: string,
  file: string,
  at: (f: string) => string,
): Material | undefined {
  const data = stringField(obj, `${field}-data`, at(`${field}-data`));
  if (data) {
    const bytes = Buffer.from(data, 'base64');
    if (bytes.length === 0 || !/^[A-Za-z0-9+/=\s]+$/.test(data))
      throw new KubeconfigError(`${at(`${field}-data`)} is not base64`);
    return { data: bytes };
  }
  const path = stringField(obj, field, at(field));
  return path ? { file: relativeTo(file, path) } : undefined;
}

function relativeTo(kubeconfig: string, path: string): string {
  return isAbsolute(path) ? path : resolve(dirname(kubeconfig), path);
}

function stringField(obj: Record<string, unknown>, field: string, at: string): string | undefined {
  const v = obj[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new KubeconfigError(`${at} is ${JSON.stringify(v)}, not a string`);
  return v;
}

function booleanField(obj: Record<string, unknown>, field: string, at: string): boolean {
  const v = obj[field];
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') throw new KubeconfigError(`${at} is ${JSON.stringify(v)}, not true or false`);
  return v;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** What an exec plugin printed: a bearer token and/or a client certificate, maybe with an expiry. */
export interface ExecCredentialStatus {
  readonly token?: string;
  readonly clientCertificateData?: string;
  readonly clientKeyData?: string;
  /** Epoch ms; absent: valid for as long as the process runs. */
  readonly expiresAtMs?: number;
}

/** Parses an exec plugin's stdout (an `ExecCredential` object). `what` names the plugin in errors. */
export function parseExecCredential(stdout: string, apiVersion: string, what: string): ExecCredentialStatus {
  let doc: unknown;
  try {
    doc = JSON.parse(stdout);
  } catch {
    throw new KubeconfigError(`${what}: the output is not JSON: ${stdout.slice(0, 200)}`);
  }
  if (!isRecord(doc) || doc['kind'] !== 'ExecCredential')
    throw new KubeconfigError(`${what}: the output is not an ExecCredential`);
  if (doc['apiVersion'] !== apiVersion)
    throw new KubeconfigError(
      `${what}: the output's apiVersion ${JSON.stringify(doc['apiVersion'])} is not the requested ${apiVersion}`,
    );
  const status = doc['status'];
  if (!isRecord(status)) throw new KubeconfigError(`${what}: the ExecCredential has no status`);
  const token = stringField(status, 'token', `${what}: status.token`);
  const cert = stringField(status, 'clientCertificateData', `${what}: status.clientCertificateData`);
  const key = stringField(status, 'clientKeyData', `${what}: status.clientKeyData`);
  if ((cert === undefined) !== (key === undefined))
    throw new KubeconfigError(`${what}: status has only one of clientCertificateData and clientKeyData`);
  if (!token && !cert)
    throw new KubeconfigError(`${what}: status has neither a token nor a client certificate`);
  const expiry = stringField(status, 'expirationTimestamp', `${what}: status.expirationTimestamp`);
  let expiresAtMs: number | undefined;
  if (expiry) {
    expiresAtMs = Date.parse(expiry);
    if (Number.isNaN(expiresAtMs))
      throw new KubeconfigError(`${what}: status.expirationTimestamp "${expiry}" is not a time`);
  }
  return {
    ...(token ? { token } : {}),
    ...(cert && key ? { clientCertificateData: cert, clientKeyData: key } : {}),
    ...(expiresAtMs !== undefined ? { expiresAtMs } : {}),
  };
}

/** The `KUBERNETES_EXEC_INFO` value for a plugin (non-interactive; cluster info when asked). */
export function execInfo(config: ClientConfig, exec: ExecConfig, caData?: Buffer): string {
  const spec: Record<string, unknown> = { interactive: false };
  if (exec.provideClusterInfo)
    spec['cluster'] = {
      server: config.server,
      ...(config.tlsServerName ? { 'tls-server-name': config.tlsServerName } : {}),
      'insecure-skip-tls-verify': config.insecureSkipTlsVerify,
      ...(caData ? { 'certificate-authority-data': caData.toString('base64') } : {}),
    };
  return JSON.stringify({ apiVersion: exec.apiVersion, kind: 'ExecCredential', spec });
}
