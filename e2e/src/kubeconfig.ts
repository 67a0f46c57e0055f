import { readFileSync, writeFileSync } from 'node:fs';

export type KubeconfigUser =
  | { readonly kind: 'cert'; readonly certFile: string; readonly keyFile: string }
  | { readonly kind: 'token'; readonly token: string };

const b64 = (file: string): string => readFileSync(file).toString('base64');

/**
 * Writes a self-contained kubeconfig (credentials embedded, so it works from any namespace or
 * working directory). JSON is valid YAML, so every client reads it.
 */
export function writeKubeconfig(
  path: string,
  server: string,
  caFile: string,
  name: string,
  user: KubeconfigUser,
): void {
  const userEntry =
    user.kind === 'cert'
      ? { 'client-certificate-data': b64(user.certFile), 'client-key-data': b64(user.keyFile) }
      : { token: user.token };
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'lab', cluster: { server, 'certificate-authority-data': b64(caFile) } }],
    users: [{ name, user: userEntry }],
    contexts: [{ name, context: { cluster: 'lab', user: name } }],
    'current-context': name,
    preferences: {},
  };
  writeFileSync(path, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
}
