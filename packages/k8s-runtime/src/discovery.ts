// Which URL an object lives at: kind -> plural and scope from the API server's discovery
// documents (cached per group/version, looked up once more when a kind is missing, since a CRD
// may have been installed since), and the object paths built from them.
import { KubeError } from './kube-error.js';
import type { ResourceInfo } from './ports.js';
import type { Transport } from './transport.js';
import type { KubeObject, ObjectRef } from './types.js';

export class Discovery {
  private readonly cache = new Map<string, Promise<Map<string, ResourceInfo>>>();

  constructor(private readonly transport: Pick<Transport, 'request'>) {}

  /** Plural name and scope of a kind; a 404 KubeError when the server has none. */
  async resource(apiVersion: string, kind: string): Promise<ResourceInfo> {
    for (let attempt = 0; attempt < 2; attempt++) {
      let p = this.cache.get(apiVersion);
      if (!p) {
        p = this.discover(apiVersion);
        this.cache.set(apiVersion, p);
        p.catch(() => this.cache.delete(apiVersion));
      }
      const found = (await p).get(kind);
      if (found) return found;
      // A CRD may have been installed after we looked; look once more.
      this.cache.delete(apiVersion);
    }
    throw new KubeError({
      status: 404,
      reason: 'NotFound',
      message: `the server has no resource for kind ${kind} in ${apiVersion}`,
      operation: `discovery ${apiVersion}`,
    });
  }

  private async discover(apiVersion: string): Promise<Map<string, ResourceInfo>> {
    const list = (await this.transport.request('GET', groupVersionPath(apiVersion))) as
      { resources?: Array<{ name: string; kind: string; namespaced: boolean }> } | undefined;
    const out = new Map<string, ResourceInfo>();
    for (const r of list?.resources ?? []) {
      if (r.name.includes('/')) continue; // subresources
      out.set(r.kind, { plural: r.name, namespaced: r.namespaced });
    }
    return out;
  }

  /** The path of one object (`ref.name` required), optionally of its subresource. */
  async objectPath(ref: ObjectRef, subresource?: string): Promise<string> {
    if (!ref.name) {
      throw new KubeError({ status: 400, reason: 'BadRequest', message: `${ref.kind}: a name is required` });
    }
    let p = `${await this.collectionPath(ref)}/${encodeURIComponent(ref.name)}`;
    if (subresource) p += `/${subresource}`;
    return p;
  }

  /** The path of a collection: in `ref.namespace` for namespaced kinds, all namespaces without it. */
  async collectionPath(ref: ObjectRef): Promise<string> {
    const info: ResourceInfo = ref.plural
      ? { plural: ref.plural, namespaced: ref.namespace !== undefined && ref.namespace !== '' }
      : await this.resource(ref.apiVersion, ref.kind);
    let p = groupVersionPath(ref.apiVersion);
    if (info.namespaced && ref.namespace) p += `/namespaces/${encodeURIComponent(ref.namespace)}`;
    return `${p}/${info.plural}`;
  }
}

function groupVersionPath(apiVersion: string): string {
  return apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
}

/** The ref an object names itself by; a 400 KubeError without apiVersion and kind. */
export function refOf(obj: KubeObject): ObjectRef {
  if (!obj.apiVersion || !obj.kind) {
    throw new KubeError({ status: 400, reason: 'BadRequest', message: 'object needs apiVersion and kind' });
  }
  return {
    apiVersion: obj.apiVersion,
    kind: obj.kind,
    namespace: obj.metadata?.namespace,
    name: obj.metadata?.name,
  };
}
