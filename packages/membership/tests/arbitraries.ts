import fc from 'fast-check';
import { MEMBER_STATUSES, type MemberUpdate, type Message, type Packet } from '../src/index.js';

const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,14}[a-z0-9])?$/);
export const nameArb = fc
  .array(label, { minLength: 1, maxLength: 3 })
  .map((parts) => parts.join('.'))
  .filter((n) => n.length <= 253);
const u32 = fc.integer({ min: 0, max: 0xffffffff });

export const updateArb: fc.Arbitrary<MemberUpdate> = fc.record({
  status: fc.constantFrom(...MEMBER_STATUSES),
  member: nameArb,
  incarnation: u32,
});

export const messageArb: fc.Arbitrary<Message> = fc.oneof(
  fc.record({ type: fc.constant('ping' as const), target: nameArb }),
  fc.record({ type: fc.constant('ack' as const), probe: u32 }),
  fc.record({ type: fc.constant('ping-req' as const), target: nameArb }),
  fc.record({ type: fc.constant('indirect-ack' as const), target: nameArb, probe: u32 }),
  fc.record({ type: fc.constant('suspect' as const), member: nameArb, incarnation: u32 }),
  fc.record({ type: fc.constant('alive' as const), member: nameArb, incarnation: u32 }),
  fc.record({
    type: fc.constant('dead' as const),
    member: nameArb,
    incarnation: u32,
    reason: fc.constantFrom('confirmed' as const, 'suspicion-timeout' as const),
  }),
  fc.constant({ type: 'join' as const }),
  fc.constant({ type: 'leave' as const }),
  fc.record({ type: fc.constant('sync' as const), entries: fc.array(updateArb, { maxLength: 20 }) }),
);

export const packetArb: fc.Arbitrary<Packet> = fc.record({
  sender: nameArb,
  incarnation: u32,
  sequence: u32,
  message: messageArb,
  updates: fc.array(updateArb, { maxLength: 8 }),
});
