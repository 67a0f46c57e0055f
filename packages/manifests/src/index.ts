export * from './names.js';
export * from './settings.js';
export * from './objects.js';
export * from './labels.js';
export * from './rbac.js';
export * from './workloads.js';
export * from './services.js';
export * from './install.js';
