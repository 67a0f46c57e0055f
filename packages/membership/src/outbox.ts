import { encodePacket } from './codec.js';
import type { StepResult } from './events.js';
import { GossipQueue } from './gossip.js';
import type { MembershipKeys } from './keys.js';
import type { Message } from './messages.js';
import type { Counters } from './metrics.js';

/** Piggybacked updates stay within this many bytes, so a probe fits any MTU. */
const PIGGYBACK_BYTES = 1000;

/**
 * The send path: numbers, piggybacks, encodes and signs each message once, however many members
 * it goes to, and counts what leaves.
 */
export class Outbox {
  readonly gossip = new GossipQueue();
  private sequence = 0;

  constructor(
    private readonly name: string,
    private readonly keys: MembershipKeys,
    private readonly counters: Counters,
    private readonly maxPiggyback: number,
  ) {}

  /** Whether the next send would wrap the sequence (the caller raises its incarnation first). */
  get exhausted(): boolean {
    return this.sequence >= 0xffffffff;
  }

  /** Restarts numbering; only with a higher incarnation (the replay windows key on both). */
  restart(): void {
    this.sequence = 0;
  }

  /**
   * Sends `message` to every name in `to`; returns its sequence number. `gossipLimit` is how many
   * times a rumour rides along before it is dropped (0: no piggyback, e.g. for broadcasts).
   */
  send(
    step: StepResult,
    to: readonly string[],
    message: Message,
    incarnation: number,
    gossipLimit: number,
  ): number {
    const sequence = ++this.sequence;
    const updates = gossipLimit > 0 ? this.gossip.take(this.maxPiggyback, PIGGYBACK_BYTES, gossipLimit) : [];
    const bytes = encodePacket({ sender: this.name, incarnation, sequence, message, updates }, this.keys);
    for (const name of to) {
      step.send.push({ to: name, bytes });
      this.counters.sentPackets++;
      this.counters.sentBytes += bytes.length;
    }
    return sequence;
  }
}
