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

/** The metadata of an object of `component`: its name, namespace (none when cluster-scoped) and labels. */
export function componentMeta(
  component: ComponentName,
  name: string,
  namespace?: string,
  version?: string,
): { name: string; namespace?: string; labels: Record<string, string> } {
  return {
    name,
    ...(namespace !== undefined ? { namespace } : {}),
    labels: componentLabels(component, version),
  };
}
