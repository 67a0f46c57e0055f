import { join } from 'node:path';
import type { ControlPlane } from './control-plane.js';
import { writeKubeconfig } from './kubeconfig.js';

/**
 * Writes a kubeconfig that authenticates as ServiceAccount `namespace/sa` with a token from the
 * TokenRequest API (24 h), talking to `server`. Components always run with these, never as admin.
 * Returns the kubeconfig's path (in the control plane's folder).
 */
export async function serviceAccountKubeconfig(
  cp: ControlPlane,
  namespace: string,
  sa: string,
  server: string = cp.server.lab,
): Promise<string> {
  const token = (await cp.kubectlOk(['-n', namespace, 'create', 'token', sa, '--duration=24h'])).trim();
  if (token.length === 0) throw new Error(`TokenRequest for ${namespace}/${sa} returned an empty token`);
  const host = new URL(server).hostname.replaceAll(/[^a-z0-9]/gi, '_');
  const path = join(cp.dir, `sa-${namespace}-${sa}-${host}.kubeconfig`);
  writeKubeconfig(path, server, cp.caFile, `system:serviceaccount:${namespace}:${sa}`, {
    kind: 'token',
    token,
  });
  return path;
}
