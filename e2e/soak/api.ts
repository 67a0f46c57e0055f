// A small admin client for the soak: one keep-alive connection pool to the API server, so a
// step's reads cost milliseconds (kubectl costs a process start per call).
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import type { ControlPlane } from '../src/control-plane.js';
import { APISERVER_PORT } from '../src/control-plane.js';

export interface ApiReply {
  readonly status: number;
  readonly body: string;
}

export interface SoakApi {
  call(method: string, path: string, body?: unknown, contentType?: string): Promise<ApiReply>;
  /** GET and parse; throws naming the path and status unless 200. */
  getJson<T>(path: string): Promise<T>;
  /** Server-side apply of one object as field manager `soak` (forced). */
  apply(path: string, obj: unknown): Promise<ApiReply>;
  close(): void;
}

export function soakApi(cp: ControlPlane, timeoutMs = 10_000): SoakApi {
  const agent = new Agent({
    keepAlive: true,
    maxSockets: 8,
    ca: readFileSync(cp.pki.ca.cert),
    cert: readFileSync(cp.pki.admin.cert),
    key: readFileSync(cp.pki.admin.key),
  });
  const call = (method: string, path: string, body?: unknown, contentType = 'application/json') =>
    new Promise<ApiReply>((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = request(
        {
          agent,
          host: '127.0.0.1',
          port: APISERVER_PORT,
          path,
          method,
          headers: {
            accept: 'application/json',
            ...(payload ? { 'content-type': contentType, 'content-length': Buffer.byteLength(payload) } : {}),
          },
          timeout: timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
          );
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out after ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end(payload);
    });
  return {
    call,
    async getJson<T>(path: string): Promise<T> {
      const r = await call('GET', path);
      if (r.status !== 200) throw new Error(`GET ${path}: ${r.status} ${r.body.slice(0, 300)}`);
      return JSON.parse(r.body) as T;
    },
    apply: (path, obj) =>
      call('PATCH', `${path}?fieldManager=soak&force=true`, obj, 'application/apply-patch+yaml'),
    close: () => agent.destroy(),
  };
}
