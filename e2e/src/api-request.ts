import { readFileSync } from 'node:fs';
import { request } from 'node:https';

export interface ApiResponse {
  readonly status: number;
  readonly body: string;
}

interface KubeconfigJson {
  clusters: { cluster: { server: string; 'certificate-authority-data': string } }[];
  users: { user: { token?: string; 'client-certificate-data'?: string; 'client-key-data'?: string } }[];
}

/**
 * One raw HTTP request to the API server with the identity of a kubeconfig written by this
 * package (JSON, credentials embedded). For tests that must issue exactly one verb (kubectl often
 * adds a GET first). Resolves with the status code; rejects only on transport errors.
 */
export function apiRequest(
  kubeconfigPath: string,
  method: string,
  path: string,
  body?: unknown,
  contentType = 'application/merge-patch+json',
): Promise<ApiResponse> {
  const kc = JSON.parse(readFileSync(kubeconfigPath, 'utf8')) as KubeconfigJson;
  const cluster = kc.clusters[0]?.cluster;
  const user = kc.users[0]?.user;
  if (!cluster || !user) return Promise.reject(new Error(`${kubeconfigPath}: no cluster or user`));
  const url = new URL(path, cluster.server);
  const fromB64 = (s: string | undefined) => (s ? Buffer.from(s, 'base64') : undefined);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolveReq, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: `${url.pathname}${url.search}`,
        method,
        ca: fromB64(cluster['certificate-authority-data']),
        cert: fromB64(user['client-certificate-data']),
        key: fromB64(user['client-key-data']),
        headers: {
          accept: 'application/json',
          ...(user.token ? { authorization: `Bearer ${user.token}` } : {}),
          ...(payload ? { 'content-type': contentType, 'content-length': Buffer.byteLength(payload) } : {}),
        },
        timeout: 10_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolveReq({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on('error', reject);
    req.end(payload);
  });
}
