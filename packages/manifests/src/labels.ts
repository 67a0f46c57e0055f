import { APP_NAME, LABELS, type ComponentName } from './names.js';

/** The labels a workload selects its pods by (never changes, so never includes the version). */
export function selectorLabels(component: ComponentName): Record<string, string> {
  return { [LABELS.name]: APP_NAME, [LABELS.component]: component };
}

/** The labels on every object of a component; the version only when known. */
export function componentLabels(component: ComponentName, version?: string): Record<string, string> {
  return {
    ...selectorLabels(component),
    [LABELS.partOf]: APP_NAME,
    ...(version !== undefined ? { [LABELS.version]: version } : {}),
  };
}
