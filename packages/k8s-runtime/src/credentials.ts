// The I/O half of the kubeconfig: finds and reads the files, reads certificates and token files,
// runs exec plugins, and keeps what rotates fresh. The decisions are in kubeconfig.ts.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import {
  KubeconfigError,
  execInfo,
  inClusterConfig,
  kubeconfigPaths,
  parseExecCredential,
  resolveKubeconfig,
  type ClientConfig,
  type ExecConfig,
  type ExecCredentialStatus,
  type Material,
} from './kubeconfig.js';

/** Token files (projected ServiceAccount tokens rotate) are re-read after this long. */
export const TOKEN_FILE_REFRESH_MS = 60_000;
/** An exec credential is renewed this long before it expires. */
export const EXEC_EXPIRY_MARGIN_MS = 10_000;
const EXEC_TIMEOUT_MS = 60_000;

/**
 * The client config from an explicit kubeconfig path; else `$KUBECONFIG`; else `~/.kube/config`
 * if it exists; else the in-cluster ServiceAccount. Throws `KubeconfigError`.
 */
export function loadClientConfig(
  path?: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): ClientConfig {
  if (path) return resolveKubeconfig([readConfigFile(path)]);
  if (env['KUBECONFIG']) {
    const files = kubeconfigPaths(env, homedir()).filter((p) => existsSync(p));
    if (files.length === 0)
      throw new KubeconfigError(`KUBECONFIG=${env['KUBECONFIG']}: none of these files exists`);
    return resolveKubeconfig(files.map(readConfigFile));
  }
  const home = kubeconfigPaths({}, homedir())[0];
  if (home && existsSync(home)) return resolveKubeconfig([readConfigFile(home)]);
  const inCluster = inClusterConfig(env);
  if (inCluster) return inCluster;
  throw new KubeconfigError(
    `no kubeconfig: none given, KUBECONFIG is not set, ${home} does not exist and KUBERNETES_SERVICE_HOST/PORT are not set`,
  );
}

function readConfigFile(path: string): { path: string; text: string } {
  try {
    return { path, text: readFileSync(path, 'utf8') };
  } catch (e) {
    throw new KubeconfigError(`kubeconfig ${path}: ${(e as Error).message}`);
  }
}

/** TLS settings for the agent (fixed for the life of the connection). */
export interface TlsSettings {
  ca?: Buffer;
  rejectUnauthorized: boolean;
  servername?: string;
}

/** What proves who we are right now: headers, and a client certificate if there is one. */
export interface Auth {
  readonly headers: Readonly<Record<string, string>>;
  readonly cert?: Buffer;
  readonly key?: Buffer;
}

/** How an exec plugin is run; replaceable in tests. Resolves with stdout. */
export type RunExec = (exec: ExecConfig, env: NodeJS.ProcessEnv) => Promise<string>;

export interface CredentialOptions {
  now?: () => number;
  runExec?: RunExec;
  readFile?: (path: string) => Buffer;
}

/** Reads and caches a config's credentials; `auth()` is cheap to call before every request. */
export class Credentials {
  private readonly now: () => number;
  private readonly runExec: RunExec;
  private readonly readFile: (path: string) => Buffer;
  private cached: { auth: Auth; validUntil: number } | undefined;
  private pending: Promise<Auth> | undefined;

  constructor(
    readonly config: ClientConfig,
    opts: CredentialOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
    this.runExec = opts.runExec ?? runExecFile;
    this.readFile = opts.readFile ?? ((p) => readFileSync(p));
  }

  tls(): TlsSettings {
    const c = this.config;
    return {
      ...(c.ca ? { ca: this.read(c.ca, 'certificate-authority') } : {}),
      rejectUnauthorized: !c.insecureSkipTlsVerify,
      ...(c.tlsServerName ? { servername: c.tlsServerName } : {}),
    };
  }

  /** The current credentials: cached until a token file is due for a re-read or an exec credential expires. */
  async auth(): Promise<Auth> {
    if (this.cached && this.now() < this.cached.validUntil) return this.cached.auth;
    this.pending ??= this.load().finally(() => (this.pending = undefined));
    return this.pending;
  }

  /** Forgets the cached credentials (after a 401, say); the next `auth()` loads them again. */
  invalidate(): void {
    this.cached = undefined;
  }

  private async load(): Promise<Auth> {
    const c = this.config;
    const cert = c.clientCertificate ? this.read(c.clientCertificate, 'client-certificate') : undefined;
    const key = c.clientKey ? this.read(c.clientKey, 'client-key') : undefined;
    const withCert = (headers: Record<string, string>): Auth => ({
      headers,
      ...(cert && key ? { cert, key } : {}),
    });
    let auth: Auth;
    let validUntil = Infinity;
    switch (c.auth.kind) {
      case 'none':
        auth = withCert({});
        break;
      case 'token':
        auth = withCert(bearer(c.auth.token));
        break;
      case 'basic':
        auth = withCert({
          Authorization: `Basic ${Buffer.from(`${c.auth.username}:${c.auth.password}`).toString('base64')}`,
        });
        break;
      case 'tokenFile': {
        const token = this.read({ file: c.auth.file }, 'tokenFile').toString('utf8').trim();
        if (token === '') throw new KubeconfigError(`${c.source}: token file ${c.auth.file} is empty`);
        auth = withCert(bearer(token));
        validUntil = this.now() + TOKEN_FILE_REFRESH_MS;
        break;
      }
      case 'exec': {
        const status = await this.exec(c.auth.exec);
        auth = {
          headers: status.token ? bearer(status.token) : {},
          ...(status.clientCertificateData && status.clientKeyData
            ? { cert: Buffer.from(status.clientCertificateData), key: Buffer.from(status.clientKeyData) }
            : cert && key
              ? { cert, key }
              : {}),
        };
        if (status.expiresAtMs !== undefined) validUntil = status.expiresAtMs - EXEC_EXPIRY_MARGIN_MS;
        break;
      }
    }
    this.cached = { auth, validUntil };
    return auth;
  }

  private async exec(exec: ExecConfig): Promise<ExecCredentialStatus> {
    const what = `${this.config.source}: exec plugin ${exec.command}`;
    const caData = this.config.ca ? this.read(this.config.ca, 'certificate-authority') : undefined;
    const env = { ...process.env, ...exec.env, KUBERNETES_EXEC_INFO: execInfo(this.config, exec, caData) };
    let stdout: string;
    try {
      stdout = await this.runExec(exec, env);
    } catch (e) {
      throw new KubeconfigError(`${what}: ${(e as Error).message}`);
    }
    return parseExecCredential(stdout, exec.apiVersion, what);
  }

  private read(m: Material, field: string): Buffer {
    if ('data' in m) return m.data;
    try {
      return this.readFile(m.file);
    } catch (e) {
      throw new KubeconfigError(`${this.config.source}: ${field} ${m.file}: ${(e as Error).message}`);
    }
  }
}

function bearer(token: string): Record<string, string> {
  return { Authorization: `Bearer ${token}` };
}

const runExecFile: RunExec = (exec, env) =>
  new Promise((resolve, reject) => {
    execFile(
      exec.command,
      [...exec.args],
      { env, timeout: EXEC_TIMEOUT_MS, maxBuffer: 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) {
          const detail = String(stderr).trim().slice(0, 500);
          reject(new Error(`${error.message}${detail ? `: ${detail}` : ''}`));
        } else resolve(String(stdout));
      },
    );
  });
