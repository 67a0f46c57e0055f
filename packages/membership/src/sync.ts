import { updateLength } from './codec.js';
import type { MemberUpdate } from './messages.js';
import type { MemberRecord } from './table.js';

/** Splits a member table into sync messages of at most `maxBytes` of entries each. */
export function syncChunks(entries: Iterable<[string, MemberRecord]>, maxBytes: number): MemberUpdate[][] {
  const chunks: MemberUpdate[][] = [];
  let chunk: MemberUpdate[] = [];
  let bytes = 0;
  for (const [member, r] of entries) {
    const u: MemberUpdate = { status: r.status, member, incarnation: r.incarnation };
    const len = updateLength(u);
    if (chunk.length > 0 && bytes + len > maxBytes) {
      chunks.push(chunk);
      chunk = [];
      bytes = 0;
    }
    chunk.push(u);
    bytes += len;
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}
