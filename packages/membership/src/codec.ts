import { MAC_LENGTH, requireKeys, sign, verify, type KeyName, type MembershipKeys } from './keys.js';
import {
  DEATH_REASONS,
  MEMBER_STATUSES,
  type MemberUpdate,
  type Message,
  type MessageType,
  type Packet,
} from './messages.js';
import { isMemberName, requireMemberName } from './names.js';
import { fail, ok, requireUint32, type Err, type Result } from './result.js';

export const PROTOCOL_VERSION = 1;
/** version, type, incarnation, sequence, sender length: the part read before the sender name. */
export const HEADER_FIXED_LENGTH = 11;
/** The shortest packet: fixed header, a 1-byte name, an empty update list, the MAC. */
export const MIN_PACKET_LENGTH = HEADER_FIXED_LENGTH + 1 + 1 + MAC_LENGTH;
/** The largest UDP payload over IPv4. */
export const MAX_PACKET_LENGTH = 65_507;
export const MAX_UPDATES = 255;
export const MAX_SYNC_ENTRIES = 65_535;

const TYPE_CODES: Record<MessageType, number> = {
  ping: 1,
  ack: 2,
  'ping-req': 3,
  'indirect-ack': 4,
  suspect: 5,
  alive: 6,
  dead: 7,
  join: 8,
  leave: 9,
  sync: 10,
};
const TYPES_BY_CODE = new Map<number, MessageType>(
  Object.entries(TYPE_CODES).map(([type, code]) => [code, type as MessageType]),
);

/** Bytes one update (or sync entry) takes on the wire. */
export function updateLength(update: MemberUpdate): number {
  return 1 + 4 + 1 + update.member.length;
}

/** Writes into one scratch buffer (encoding is synchronous), copied out once at the end. */
const scratch = Buffer.alloc(MAX_PACKET_LENGTH + 1024);

class Writer {
  private at = 0;
  private room(n: number): void {
    if (this.at + n > MAX_PACKET_LENGTH - MAC_LENGTH)
      throw new RangeError(`packet would exceed ${MAX_PACKET_LENGTH} bytes`);
  }
  u8(v: number): void {
    this.room(1);
    scratch[this.at++] = v;
  }
  u16(v: number): void {
    this.room(2);
    this.at = scratch.writeUInt16BE(v, this.at);
  }
  u32(v: number): void {
    this.room(4);
    this.at = scratch.writeUInt32BE(v, this.at);
  }
  name(v: string): void {
    this.u8(v.length);
    this.room(v.length);
    this.at += scratch.write(v, this.at, 'latin1');
  }
  update(u: MemberUpdate, field: string): void {
    const status = MEMBER_STATUSES.indexOf(u.status);
    if (status < 0) throw new RangeError(`${field}.status must be one of ${MEMBER_STATUSES.join(', ')}`);
    requireMemberName(u.member, `${field}.member`);
    requireUint32(u.incarnation, `${field}.incarnation`);
    this.u8(status + 1);
    this.u32(u.incarnation);
    this.name(u.member);
  }
  /** The bytes written, with room for the MAC after them. */
  withMacRoom(): Buffer {
    const out = Buffer.allocUnsafe(this.at + MAC_LENGTH);
    scratch.copy(out, 0, 0, this.at);
    return out;
  }
}

/** Encodes and signs `packet` with `keys.primary`. Throws RangeError on a contract breach. */
export function encodePacket(packet: Packet, keys: MembershipKeys): Buffer {
  requireKeys(keys);
  const type = TYPE_CODES[packet.message?.type];
  if (type === undefined) throw new RangeError(`packet.message.type ${String(packet.message?.type)} unknown`);
  requireMemberName(packet.sender, 'packet.sender');
  requireUint32(packet.incarnation, 'packet.incarnation');
  requireUint32(packet.sequence, 'packet.sequence');
  if (packet.updates.length > MAX_UPDATES)
    throw new RangeError(`packet.updates has ${packet.updates.length} entries, at most ${MAX_UPDATES}`);
  const w = new Writer();
  w.u8(PROTOCOL_VERSION);
  w.u8(type);
  w.u32(packet.incarnation);
  w.u32(packet.sequence);
  w.name(packet.sender);
  writeBody(w, packet.message);
  w.u8(packet.updates.length);
  packet.updates.forEach((u, i) => w.update(u, `packet.updates[${i}]`));
  const out = w.withMacRoom();
  const bodyEnd = out.length - MAC_LENGTH;
  sign(keys.primary, out.subarray(0, bodyEnd)).copy(out, bodyEnd);
  return out;
}

function writeBody(w: Writer, m: Message): void {
  switch (m.type) {
    case 'ping':
    case 'ping-req':
      requireMemberName(m.target, `${m.type}.target`);
      w.name(m.target);
      return;
    case 'ack':
      requireUint32(m.probe, 'ack.probe');
      w.u32(m.probe);
      return;
    case 'indirect-ack':
      requireMemberName(m.target, 'indirect-ack.target');
      requireUint32(m.probe, 'indirect-ack.probe');
      w.name(m.target);
      w.u32(m.probe);
      return;
    case 'suspect':
    case 'alive':
    case 'dead':
      requireMemberName(m.member, `${m.type}.member`);
      requireUint32(m.incarnation, `${m.type}.incarnation`);
      w.name(m.member);
      w.u32(m.incarnation);
      if (m.type === 'dead') {
        const reason = DEATH_REASONS.indexOf(m.reason);
        if (reason < 0) throw new RangeError(`dead.reason must be one of ${DEATH_REASONS.join(', ')}`);
        w.u8(reason + 1);
      }
      return;
    case 'join':
    case 'leave':
      return;
    case 'sync':
      if (m.entries.length > MAX_SYNC_ENTRIES)
        throw new RangeError(`sync.entries has ${m.entries.length} entries, at most ${MAX_SYNC_ENTRIES}`);
      w.u16(m.entries.length);
      m.entries.forEach((e, i) => w.update(e, `sync.entries[${i}]`));
      return;
  }
}

/** Reads fields from the authenticated part of a packet; every read checks the bytes are there. */
class Reader {
  offset = 0;
  constructor(private readonly buf: Buffer) {}
  private need(n: number, field: string): Err | undefined {
    if (this.buf.length - this.offset >= n) return undefined;
    return fail(
      'truncated',
      `${field} needs ${n} bytes at offset ${this.offset}, ${this.buf.length - this.offset} left before the MAC`,
      { offset: this.offset, field },
    );
  }
  u8(field: string): Result<number> {
    const short = this.need(1, field);
    if (short) return short;
    return ok(this.buf[this.offset++] as number);
  }
  u16(field: string): Result<number> {
    const short = this.need(2, field);
    if (short) return short;
    const v = this.buf.readUInt16BE(this.offset);
    this.offset += 2;
    return ok(v);
  }
  u32(field: string): Result<number> {
    const short = this.need(4, field);
    if (short) return short;
    const v = this.buf.readUInt32BE(this.offset);
    this.offset += 4;
    return ok(v);
  }
  name(field: string): Result<string> {
    const at = this.offset;
    const len = this.u8(`${field}.length`);
    if (!len.ok) return len;
    const short = this.need(len.value, field);
    if (short) return short;
    const text = this.buf.toString('latin1', this.offset, this.offset + len.value);
    if (!isMemberName(text)) {
      return fail(
        'malformed',
        `${field} is not a member name (lowercase RFC 1123): ${JSON.stringify(text)}`,
        {
          offset: at,
          field,
        },
      );
    }
    this.offset += len.value;
    return ok(text);
  }
  update(field: string): Result<MemberUpdate> {
    const at = this.offset;
    const status = this.u8(`${field}.status`);
    if (!status.ok) return status;
    const statusName = MEMBER_STATUSES[status.value - 1];
    if (!statusName)
      return fail('malformed', `${field}.status ${status.value} is not 1-${MEMBER_STATUSES.length}`, {
        offset: at,
        field: `${field}.status`,
      });
    const incarnation = this.u32(`${field}.incarnation`);
    if (!incarnation.ok) return incarnation;
    const member = this.name(`${field}.member`);
    if (!member.ok) return member;
    return ok({ status: statusName, member: member.value, incarnation: incarnation.value });
  }
}

export interface DecodedPacket {
  readonly packet: Packet;
  /** Which key the packet was signed with (the speaker logs a secondary-key sender during rotation). */
  readonly signedWith: KeyName;
}

/**
 * Decodes and authenticates one datagram. Checks, in order: length bounds (`truncated`,
 * `too-large`), version (`bad-version`), the HMAC in constant time under either key (`bad-mac`),
 * then - only for authenticated bytes - the type (`unknown-type`) and every field, with no byte
 * left over (`truncated`, `malformed`). Replay is checked by the caller's ReplayWindow.
 */
export function decodePacket(buf: Buffer, keys: MembershipKeys): Result<DecodedPacket> {
  if (buf.length < MIN_PACKET_LENGTH)
    return fail('truncated', `packet has ${buf.length} bytes, at least ${MIN_PACKET_LENGTH} are needed`, {
      offset: 0,
    });
  if (buf.length > MAX_PACKET_LENGTH)
    return fail('too-large', `packet has ${buf.length} bytes, at most ${MAX_PACKET_LENGTH}`, { offset: 0 });
  if (buf[0] !== PROTOCOL_VERSION)
    return fail('bad-version', `protocol version ${buf[0]}, this member speaks ${PROTOCOL_VERSION}`, {
      offset: 0,
      field: 'version',
    });
  const bodyEnd = buf.length - MAC_LENGTH;
  const body = buf.subarray(0, bodyEnd);
  const signedWith = verify(keys, body, buf.subarray(bodyEnd));
  if (!signedWith)
    return fail('bad-mac', 'HMAC-SHA-256 matches neither the primary nor the secondary key', {
      offset: bodyEnd,
      field: 'mac',
    });
  const type = TYPES_BY_CODE.get(buf[1] as number);
  if (!type)
    return fail('unknown-type', `message type ${buf[1]} is not one this member knows`, {
      offset: 1,
      field: 'type',
    });
  const r = new Reader(body);
  r.offset = 2;
  const incarnation = r.u32('incarnation');
  if (!incarnation.ok) return incarnation;
  const sequence = r.u32('sequence');
  if (!sequence.ok) return sequence;
  const sender = r.name('sender');
  if (!sender.ok) return sender;
  const message = readBody(r, type);
  if (!message.ok) return message;
  const count = r.u8('updates.count');
  if (!count.ok) return count;
  const updates: MemberUpdate[] = [];
  for (let i = 0; i < count.value; i++) {
    const u = r.update(`updates[${i}]`);
    if (!u.ok) return u;
    updates.push(u.value);
  }
  if (r.offset !== bodyEnd)
    return fail('malformed', `${bodyEnd - r.offset} bytes left over after the last update`, {
      offset: r.offset,
    });
  const packet: Packet = {
    sender: sender.value,
    incarnation: incarnation.value,
    sequence: sequence.value,
    message: message.value,
    updates,
  };
  return ok({ packet, signedWith });
}

function readBody(r: Reader, type: MessageType): Result<Message> {
  switch (type) {
    case 'ping':
    case 'ping-req': {
      const target = r.name(`${type}.target`);
      return target.ok ? ok({ type, target: target.value }) : target;
    }
    case 'ack': {
      const probe = r.u32('ack.probe');
      return probe.ok ? ok({ type, probe: probe.value }) : probe;
    }
    case 'indirect-ack': {
      const target = r.name('indirect-ack.target');
      if (!target.ok) return target;
      const probe = r.u32('indirect-ack.probe');
      return probe.ok ? ok({ type, target: target.value, probe: probe.value }) : probe;
    }
    case 'suspect':
    case 'alive':
    case 'dead': {
      const member = r.name(`${type}.member`);
      if (!member.ok) return member;
      const incarnation = r.u32(`${type}.incarnation`);
      if (!incarnation.ok) return incarnation;
      if (type !== 'dead') return ok({ type, member: member.value, incarnation: incarnation.value });
      const at = r.offset;
      const code = r.u8('dead.reason');
      if (!code.ok) return code;
      const reason = DEATH_REASONS[code.value - 1];
      if (!reason)
        return fail('malformed', `dead.reason ${code.value} is not 1-${DEATH_REASONS.length}`, {
          offset: at,
          field: 'dead.reason',
        });
      return ok({ type, member: member.value, incarnation: incarnation.value, reason });
    }
    case 'join':
    case 'leave':
      return ok({ type });
    case 'sync': {
      const count = r.u16('sync.count');
      if (!count.ok) return count;
      const entries: MemberUpdate[] = [];
      for (let i = 0; i < count.value; i++) {
        const e = r.update(`sync.entries[${i}]`);
        if (!e.ok) return e;
        entries.push(e.value);
      }
      return ok({ type, entries });
    }
  }
}
