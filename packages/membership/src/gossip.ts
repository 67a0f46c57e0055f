import { updateLength } from './codec.js';
import type { MemberUpdate } from './messages.js';

interface Rumour {
  update: MemberUpdate;
  sent: number;
}

/**
 * Rumours waiting to be piggybacked. A newer rumour about a member replaces the older one; each
 * goes out on `limit` packets, least-sent first, then is dropped.
 */
export class GossipQueue {
  private readonly rumours = new Map<string, Rumour>();

  add(update: MemberUpdate): void {
    this.rumours.set(update.member, { update, sent: 0 });
  }

  get size(): number {
    return this.rumours.size;
  }

  /** Up to `max` updates within `maxBytes`, counting each as sent once. */
  take(max: number, maxBytes: number, limit: number): MemberUpdate[] {
    if (this.rumours.size === 0) return [];
    const ordered = [...this.rumours.values()].sort((a, b) => a.sent - b.sent);
    const out: MemberUpdate[] = [];
    let bytes = 0;
    for (const r of ordered) {
      if (out.length >= max) break;
      const len = updateLength(r.update);
      if (bytes + len > maxBytes) continue;
      bytes += len;
      out.push(r.update);
      r.sent++;
      if (r.sent >= limit) this.rumours.delete(r.update.member);
    }
    return out;
  }
}
