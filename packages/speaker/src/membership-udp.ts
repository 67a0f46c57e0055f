import { createSocket, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import type { Membership, MembershipEvent, RejectLabel, StepResult } from '@metallb-ts/membership';

/** MetalLB's memberlist port. */
export const DEFAULT_MEMBERSHIP_PORT = 7946;

export interface MembershipUdpOptions {
  readonly membership: Membership;
  /** Where to listen; peers are sent to on the same port unless `peerPort` says otherwise. */
  readonly port?: number;
  /** Local address to bind (default all IPv4 addresses; an IPv6 address binds a udp6 socket). */
  readonly host?: string;
  readonly peerPort?: number;
  /** The address of a member, from the API server (its Node's InternalIP). */
  readonly addressOf: (member: string) => string | undefined;
  /** Monotonic milliseconds; the state machine's clock. */
  readonly now?: () => number;
  /** What changed, for the speaker's logs, events and recompute. */
  readonly onEvents?: (events: readonly MembershipEvent[]) => void;
}

/** Datagrams this adapter could not hand over, besides the codec's rejections. */
export interface UdpCounters {
  readonly rejected: Record<RejectLabel, number>;
  /** Outgoing packets for a member without a known address. */
  readonly noAddress: number;
  readonly sendErrors: number;
}

export class MembershipUdpError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
    this.name = 'MembershipUdpError';
  }
}

/**
 * The membership's UDP transport: one socket, datagrams in to `receive`, packets out to the
 * members' addresses, and one timer kept at the state machine's `nextTickAt`. No decisions here.
 */
export class MembershipUdp {
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Addresses learned from authenticated packets (a member the API server has not shown us yet). */
  private readonly learned = new Map<string, string>();
  private readonly counters: {
    rejected: Partial<Record<RejectLabel, number>>;
    noAddress: number;
    sendErrors: number;
  } = { rejected: {}, noAddress: 0, sendErrors: 0 };

  private constructor(
    private readonly socket: Socket,
    private readonly o: MembershipUdpOptions,
    readonly port: number,
  ) {}

  /** Binds the socket and starts ticking. Rejects with the port and the reason when it cannot bind. */
  static open(o: MembershipUdpOptions): Promise<MembershipUdp> {
    const port = o.port ?? DEFAULT_MEMBERSHIP_PORT;
    const host = o.host ?? '0.0.0.0';
    const socket = createSocket({ type: isIP(host) === 6 ? 'udp6' : 'udp4', reuseAddr: false });
    return new Promise((resolve, reject) => {
      const failed = (e: NodeJS.ErrnoException) => {
        socket.close();
        reject(
          new MembershipUdpError(`membership UDP ${host}:${port} cannot be bound: ${e.message}`, e.code),
        );
      };
      socket.once('error', failed);
      socket.bind(port, host, () => {
        socket.off('error', failed);
        const udp = new MembershipUdp(socket, o, socket.address().port);
        socket.on('message', (msg, rinfo) => udp.onMessage(msg, rinfo.address));
        socket.on('error', () => udp.counters.sendErrors++);
        udp.apply(o.membership.tick(udp.now()));
        resolve(udp);
      });
    });
  }

  counts(): UdpCounters {
    const rejected = { ...this.counters.rejected } as Record<RejectLabel, number>;
    return { rejected, noAddress: this.counters.noAddress, sendErrors: this.counters.sendErrors };
  }

  /** Sends the graceful leave (peers take over at once), then closes the socket. */
  async close(options: { leave?: boolean } = {}): Promise<void> {
    if (this.closed) return;
    if (options.leave !== false) {
      const step = this.o.membership.leave(this.now());
      await Promise.all(step.send.map((out) => this.sendOne(out.to, out.bytes)));
    }
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }

  private now(): number {
    return (this.o.now ?? (() => performance.now()))();
  }

  private onMessage(msg: Buffer, from: string): void {
    if (this.closed) return;
    const result = this.o.membership.receive(msg, this.now());
    if (result.rejected) {
      const r = result.rejected.reason;
      this.counters.rejected[r] = (this.counters.rejected[r] ?? 0) + 1;
    }
    if (result.sender && !this.o.addressOf(result.sender)) this.learned.set(result.sender, from);
    this.apply(result);
  }

  private apply(step: StepResult): void {
    if (step.events.length > 0) this.o.onEvents?.(step.events);
    for (const out of step.send) void this.sendOne(out.to, out.bytes);
    this.schedule();
  }

  private sendOne(to: string, bytes: Buffer): Promise<void> {
    const address = this.o.addressOf(to) ?? this.learned.get(to);
    if (!address) {
      this.counters.noAddress++;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      // Callers do not wait (a send is fire and forget): a send that throws at once (the socket
      // closed under it, a bad port) must be counted like one that fails later, never become an
      // unhandled rejection, which would end the speaker.
      try {
        this.socket.send(bytes, this.o.peerPort ?? this.port, address, (e) => {
          if (e) this.counters.sendErrors++;
          resolve();
        });
      } catch {
        this.counters.sendErrors++;
        resolve();
      }
    });
  }

  /** One timer, always at the state machine's next deadline. */
  private schedule(): void {
    if (this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    const delay = Math.max(0, this.o.membership.nextTickAt(this.now()) - this.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.closed) this.apply(this.o.membership.tick(this.now()));
    }, delay);
  }
}
