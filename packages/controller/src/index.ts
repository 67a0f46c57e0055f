export { serviceIntent, type ServiceIntent, type IntentOptions } from './service-intent.js';
export { syncService, type ServiceOutcome, type ServiceEvent } from './sync-service.js';
export { LastGoodConfig, type ConfigUpdate } from './last-good-config.js';
export { readCommonEnv, type CommonEnv, type LogLevel } from './env.js';
