export interface FenceInputs {
  now: number;
  /** When our own heartbeat last renewed its lease (ms). */
  lastRenewedMs: number;
  leaseDurationMs: number;
  renewMs: number;
  /** Whether the membership watch itself currently shows our own lease as alive. */
  watchShowsSelf: boolean;
}

/**
 * Whether this speaker may count itself alive. Peers declare us dead once our lease is
 * `leaseDurationMs` old by their clocks; fencing a full renewal period earlier leaves room for
 * their watch to lag and our timer to fire late, so we stop answering before anyone takes over.
 * Our own renewals alone are not enough: with a half-open watch we would keep renewing yet see
 * every peer dead and announce everything, so the watch must also show our own lease.
 */
export function selfAlive(i: FenceInputs): boolean {
  return i.watchShowsSelf && i.now - i.lastRenewedMs <= i.leaseDurationMs - i.renewMs;
}
