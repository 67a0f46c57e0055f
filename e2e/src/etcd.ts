// The lab's etcd over its HTTP/JSON gateway (plain HTTP on 127.0.0.1, no client certificates):
// what tests need to make the API server's history end where they want it to.
import { ETCD_CLIENT_PORT } from './control-plane.js';

const gateway = `http://127.0.0.1:${ETCD_CLIENT_PORT}/v3/kv`;

/** etcd's current revision (the API server's resourceVersion of the newest write). */
export async function etcdRevision(): Promise<number> {
  const r = await fetch(`${gateway}/range`, {
    method: 'POST',
    body: JSON.stringify({ key: Buffer.from('/').toString('base64') }),
  });
  if (!r.ok) throw new Error(`etcd range at ${gateway}: ${r.status} ${await r.text()}`);
  const body = (await r.json()) as { header?: { revision?: string } };
  const revision = Number(body.header?.revision);
  if (!Number.isSafeInteger(revision) || revision <= 0)
    throw new Error(`etcd range at ${gateway}: no revision in ${JSON.stringify(body)}`);
  return revision;
}

/**
 * Compacts etcd at its latest revision (physically, before answering): every older revision is
 * gone, so a watch resuming from an earlier resourceVersion can only be answered 410 Gone.
 * Returns the revision compacted at.
 */
export async function compactEtcd(): Promise<number> {
  const revision = await etcdRevision();
  const c = await fetch(`${gateway}/compaction`, {
    method: 'POST',
    body: JSON.stringify({ revision, physical: true }),
  });
  if (!c.ok) throw new Error(`etcd compaction at revision ${revision}: ${c.status} ${await c.text()}`);
  return revision;
}
