/**
 * The wire messages, one type each. Every packet carries the sender's name, its incarnation and a
 * per-sender sequence number (replay window), one message and up to 255 piggybacked updates
 * (gossip about other members), and ends with an HMAC-SHA-256 over everything before it.
 */

/** What one member believes about another. `left` is a graceful leave (not counted for quorum). */
export type MemberStatus = 'alive' | 'suspect' | 'dead' | 'left';
export const MEMBER_STATUSES: readonly MemberStatus[] = ['alive', 'suspect', 'dead', 'left'];

/** Why a member was declared dead: enough watchers confirmed it, or one watcher waited it out. */
export type DeathReason = 'confirmed' | 'suspicion-timeout';
export const DEATH_REASONS: readonly DeathReason[] = ['confirmed', 'suspicion-timeout'];

/** One rumour about `member` at `incarnation` (piggybacked, and the entries of a sync). */
export interface MemberUpdate {
  readonly status: MemberStatus;
  readonly member: string;
  readonly incarnation: number;
}

/** Direct probe: "are you there?" `target` guards against a stale address reaching someone else. */
export interface PingMessage {
  readonly type: 'ping';
  readonly target: string;
}
/** Answer to a ping; `probe` is the ping's sequence number. */
export interface AckMessage {
  readonly type: 'ack';
  readonly probe: number;
}
/** Indirect probe request: "please ping `target` for me"; the reply names this packet's sequence. */
export interface PingReqMessage {
  readonly type: 'ping-req';
  readonly target: string;
}
/** A helper's answer to a ping-req: `target` acked; `probe` is the ping-req's sequence number. */
export interface IndirectAckMessage {
  readonly type: 'indirect-ack';
  readonly target: string;
  readonly probe: number;
}
/** The sender's own probes of `member` failed, directly and through helpers. */
export interface SuspectMessage {
  readonly type: 'suspect';
  readonly member: string;
  readonly incarnation: number;
}
/** `member` is alive at `incarnation` (a refutation when member = sender and incarnation rose). */
export interface AliveMessage {
  readonly type: 'alive';
  readonly member: string;
  readonly incarnation: number;
}
/** The sender declares `member` dead at `incarnation`; sent to every member at once. */
export interface DeadMessage {
  readonly type: 'dead';
  readonly member: string;
  readonly incarnation: number;
  readonly reason: DeathReason;
}
/** The sender (re)joins at the header's incarnation; members answer with an ack (probe = sequence). */
export interface JoinMessage {
  readonly type: 'join';
}
/** The sender leaves gracefully: take over its work now, do not count it for quorum. */
export interface LeaveMessage {
  readonly type: 'leave';
}
/** A slice of the sender's member table for a joiner (several packets when the table is large). */
export interface SyncMessage {
  readonly type: 'sync';
  readonly entries: readonly MemberUpdate[];
}

export type Message =
  | PingMessage
  | AckMessage
  | PingReqMessage
  | IndirectAckMessage
  | SuspectMessage
  | AliveMessage
  | DeadMessage
  | JoinMessage
  | LeaveMessage
  | SyncMessage;

export type MessageType = Message['type'];

export interface Packet {
  readonly sender: string;
  readonly incarnation: number;
  readonly sequence: number;
  readonly message: Message;
  readonly updates: readonly MemberUpdate[];
}
