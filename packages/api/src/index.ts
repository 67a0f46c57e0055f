export {
  GROUP,
  DEFAULT_NAMESPACE,
  ANNOTATION_PREFIX,
  LEGACY_ANNOTATION_PREFIX,
  ANNOTATIONS,
  LEGACY_ANNOTATIONS,
  SERVICE_L2_STATUS_LABELS,
  findServiceAnnotation,
  readServiceAnnotation,
} from './constants.js';
export type { FoundAnnotation, ServiceAnnotationName } from './constants.js';
export type {
  AddressPool,
  AddressPoolSpec,
  BgpAdvertisement,
  ComponentConfig,
  Condition,
  IPAddressPool,
  IPAddressPoolSpec,
  L2Advertisement,
  L2AdvertisementSpec,
  LogLevel,
  MetalLB,
  MetalLBSpec,
  ObjectMeta,
  PoolStatus,
  ServiceAllocationSpec,
  ServiceL2Status,
  ServiceL2StatusStatus,
  Toleration,
} from './types.js';
export { METALLB_RESOURCE_NAME } from './types.js';
export { buildConfig, l2AnnouncementFor } from './build-config.js';
export type { Config, L2Rule, ObjectError, PoolObjectKind, PoolObjects } from './build-config.js';
export { crds, crdFileName, ADDRESS_PATTERN } from './crds.js';
export type { Schema } from './crds.js';
export { LastGoodConfig, configInputChanged, type ConfigUpdate } from './last-good-config.js';
export { poolOfAddress } from './pool-of-address.js';
export { poolStatusFor, MAX_STATUS_COUNT } from './pool-status.js';
export { isOurLoadBalancer } from './load-balancer-class.js';
export type { ConfigPool } from './build-config.js';
export { LAST_VALID_SPEC_ANNOTATION } from './last-good-config.js';
export { setCondition, hasCondition, type ConditionDecision } from './conditions.js';
export {
  validCondition,
  validConditionTells,
  VALID_CONDITION,
  VALID_REASONS,
  type ObjectVerdict,
} from './valid-condition.js';
export {
  validatePoolAdmission,
  validateL2AdvertisementAdmission,
  validateMetalLB,
  parseQuantity,
} from './admission.js';
export type { AdmissionVerdict, ExistingPools } from './admission.js';
