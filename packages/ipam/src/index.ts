export type { Family, Result } from './result.js';
export { ok, err, familyName } from './result.js';
export type { IpValue } from './address.js';
export { parseIp, formatIp, canonicalIp } from './address.js';
export type { AddressRange, AddressSpecError } from './address-spec.js';
export { parseAddressSpec, formatRange, rangeSize } from './address-spec.js';
export { IntervalSet } from './interval-set.js';
export type { Interval } from './interval-set.js';
export type {
  LabelSelector,
  LabelSelectorRequirement,
  SelectorOperator,
  SelectorProblem,
} from './label-selector.js';
export { labelKeyProblem, labelValueProblem, matchesSelector, validateSelector } from './label-selector.js';
export type { ParsedAddresses, Pool, PoolSpec, PoolError, ServiceAllocation } from './pool.js';
export { buildPoolSet, parseAddressList } from './pool.js';
export type { PortSpec, SharingRequest } from './sharing.js';
export { sharingConflict } from './sharing.js';
export type {
  AllocationError,
  AllocationErrorReason,
  Assignment,
  Eviction,
  FamilyPolicy,
  PoolStats,
  ServiceRequest,
} from './allocator.js';
export { Allocator } from './allocator.js';
export { PoolRanges } from './pool-ranges.js';
