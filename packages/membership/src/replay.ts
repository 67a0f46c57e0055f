import { fail, ok, type Result } from './result.js';

/** How many sequence numbers behind the newest one a packet may arrive (UDP reorders a little). */
export const REPLAY_WINDOW = 64;
const WINDOW_MASK = (1n << BigInt(REPLAY_WINDOW)) - 1n;

interface SenderWindow {
  incarnation: number;
  /** Highest sequence accepted at this incarnation. */
  top: number;
  /** Bit i set: sequence top - i was accepted. */
  seen: bigint;
}

/**
 * Anti-replay per sender, keyed by (incarnation, sequence) as in IPsec: a newer incarnation starts
 * a fresh window; an older incarnation, a sequence already seen, or one more than REPLAY_WINDOW
 * behind the newest is `replayed`. Only authenticated packets may be admitted (a forged packet
 * must not move a window). A sender restarting picks a higher incarnation (the clock), so its
 * sequence may start again at 0.
 */
export class ReplayWindow {
  private readonly senders = new Map<string, SenderWindow>();

  admit(sender: string, incarnation: number, sequence: number): Result<void> {
    const w = this.senders.get(sender);
    if (!w || incarnation > w.incarnation) {
      this.senders.set(sender, { incarnation, top: sequence, seen: 1n });
      return ok(undefined);
    }
    if (incarnation < w.incarnation)
      return fail(
        'replayed',
        `${sender} incarnation ${incarnation} is older than its current ${w.incarnation}`,
        { field: 'incarnation' },
      );
    if (sequence > w.top) {
      const shift = sequence - w.top;
      w.seen = shift >= REPLAY_WINDOW ? 1n : ((w.seen << BigInt(shift)) | 1n) & WINDOW_MASK;
      w.top = sequence;
      return ok(undefined);
    }
    const behind = w.top - sequence;
    if (behind >= REPLAY_WINDOW)
      return fail(
        'replayed',
        `${sender} sequence ${sequence} is ${behind} behind its newest ${w.top}, outside the ${REPLAY_WINDOW}-packet window`,
        { field: 'sequence' },
      );
    const bit = 1n << BigInt(behind);
    if (w.seen & bit)
      return fail(
        'replayed',
        `${sender} sequence ${sequence} at incarnation ${incarnation} was already seen`,
        {
          field: 'sequence',
        },
      );
    w.seen |= bit;
    return ok(undefined);
  }

  forget(sender: string): void {
    this.senders.delete(sender);
  }
}
