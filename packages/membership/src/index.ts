export type { DecodeError, Err, Ok, RejectReason, Result } from './result.js';
export { REJECT_REASONS } from './result.js';
export { MAX_NAME_LENGTH, isMemberName, memberNameProblem } from './names.js';
export { MAC_LENGTH, MIN_KEY_LENGTH, keysProblem } from './keys.js';
export type { KeyName, MembershipKeys } from './keys.js';
export { DEATH_REASONS, MEMBER_STATUSES } from './messages.js';
export type {
  AckMessage,
  AliveMessage,
  DeadMessage,
  DeathReason,
  IndirectAckMessage,
  JoinMessage,
  LeaveMessage,
  MemberStatus,
  MemberUpdate,
  Message,
  MessageType,
  Packet,
  PingMessage,
  PingReqMessage,
  SuspectMessage,
  SyncMessage,
} from './messages.js';
export {
  HEADER_FIXED_LENGTH,
  MAX_PACKET_LENGTH,
  MAX_SYNC_ENTRIES,
  MAX_UPDATES,
  MIN_PACKET_LENGTH,
  PROTOCOL_VERSION,
  decodePacket,
  encodePacket,
} from './codec.js';
export type { DecodedPacket } from './codec.js';
export { REPLAY_WINDOW, ReplayWindow } from './replay.js';
export { Ring } from './ring.js';
export { announceVerdict, decide, majority } from './quorum.js';
export type { AnnounceVerdict, FenceReason, MajorityTest, Phase, QuorumInputs, TieBreak } from './quorum.js';
export { DEFAULT_TIMING, configProblem } from './config.js';
export type { MembershipConfig, Timing } from './config.js';
export { REJECT_LABELS, RTT_BUCKETS_MS } from './metrics.js';
export type { MembershipMetrics, RejectLabel } from './metrics.js';
export type { MembershipEvent, Outgoing, StepResult } from './events.js';
export { Membership } from './membership.js';
export { silenceStage } from './detector.js';
export type { SilenceAction } from './detector.js';
export type { MemberRecord } from './table.js';
export type { ReceiveResult } from './membership.js';
