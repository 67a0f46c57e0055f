// Reading and writing objects over the transport: get, list (following continue tokens), create,
// replace, patch (all four patch types), server-side apply and delete.
import type { Discovery } from './discovery.js';
import { refOf } from './discovery.js';
import { KubeError } from './kube-error.js';
import type {
  ApplyOptions,
  CallOptions,
  DeleteOptions,
  KubeReader,
  KubeWriter,
  ListOptions,
  PatchOptions,
  PatchType,
  WriteOptions,
} from './ports.js';
import { query, type Transport } from './transport.js';
import type { KubeObject, ObjectRef } from './types.js';

const contentTypes: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
  json: 'application/json-patch+json',
};

export class ObjectClient implements KubeReader, KubeWriter {
  constructor(
    private readonly transport: Pick<Transport, 'request'>,
    private readonly discovery: Pick<Discovery, 'objectPath' | 'collectionPath'>,
  ) {}

  async get<T extends KubeObject = KubeObject>(ref: ObjectRef, opts: CallOptions = {}): Promise<T> {
    const path = await this.discovery.objectPath(ref);
    return (await this.transport.request('GET', path, undefined, undefined, opts.timeoutMs)) as T;
  }

  async listWithVersion<T extends KubeObject = KubeObject>(
    ref: ObjectRef,
    opts: ListOptions = {},
  ): Promise<{ items: T[]; resourceVersion: string }> {
    const base = await this.discovery.collectionPath(ref);
    const items: T[] = [];
    let cont: string | undefined;
    let resourceVersion = '';
    do {
      const q = query({
        labelSelector: opts.labelSelector,
        fieldSelector: opts.fieldSelector,
        limit: 500,
        continue: cont,
      });
      const page = (await this.transport.request('GET', base + q)) as {
        items?: T[];
        metadata?: { resourceVersion?: string; continue?: string };
      };
      // Lists leave out apiVersion/kind on items; put them back so objects are self-describing.
      for (const item of page.items ?? [])
        items.push({ apiVersion: ref.apiVersion, kind: ref.kind, ...item });
      resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
      cont = page.metadata?.continue || undefined;
    } while (cont);
    return { items, resourceVersion };
  }

  async list<T extends KubeObject = KubeObject>(ref: ObjectRef, opts?: ListOptions): Promise<T[]> {
    return (await this.listWithVersion<T>(ref, opts)).items;
  }

  async create<T extends KubeObject>(obj: T, opts: WriteOptions = {}): Promise<T> {
    const ref = refOf(obj);
    const path = opts.subresource
      ? await this.discovery.objectPath(ref, opts.subresource)
      : await this.discovery.collectionPath(ref);
    const q = query({ fieldManager: opts.fieldManager });
    return (await this.transport.request('POST', path + q, obj, undefined, opts.timeoutMs)) as T;
  }

  async replace<T extends KubeObject>(obj: T, opts: WriteOptions = {}): Promise<T> {
    const path = await this.discovery.objectPath(refOf(obj), opts.subresource);
    const q = query({ fieldManager: opts.fieldManager });
    return (await this.transport.request('PUT', path + q, obj, undefined, opts.timeoutMs)) as T;
  }

  async delete(ref: ObjectRef, opts: DeleteOptions = {}): Promise<void> {
    const body =
      opts.propagationPolicy || opts.gracePeriodSeconds !== undefined || opts.preconditions
        ? {
            apiVersion: 'v1',
            kind: 'DeleteOptions',
            propagationPolicy: opts.propagationPolicy,
            gracePeriodSeconds: opts.gracePeriodSeconds,
            preconditions: opts.preconditions,
          }
        : undefined;
    const path = await this.discovery.objectPath(ref);
    await this.transport.request('DELETE', path, body, undefined, opts.timeoutMs);
  }

  async patch<T extends KubeObject = KubeObject>(
    ref: ObjectRef,
    patch: unknown,
    opts: PatchOptions,
  ): Promise<T> {
    if (opts.type === 'apply' && !opts.fieldManager) {
      throw new KubeError({
        status: 400,
        reason: 'BadRequest',
        message: 'server-side apply needs a fieldManager',
      });
    }
    const path = await this.discovery.objectPath(ref, opts.subresource);
    const q = query({
      fieldManager: opts.fieldManager,
      force: opts.type === 'apply' && opts.force ? 'true' : undefined,
    });
    return (await this.transport.request(
      'PATCH',
      path + q,
      patch,
      contentTypes[opts.type],
      opts.timeoutMs,
    )) as T;
  }

  async apply<T extends KubeObject>(obj: T, opts: ApplyOptions): Promise<T> {
    return this.patch<T>(refOf(obj), obj, { type: 'apply', ...opts });
  }
}
