export { serviceIntent, type ServiceIntent, type IntentOptions } from './service-intent.js';
export { syncService, type ServiceOutcome, type ServiceEvent } from './sync-service.js';

