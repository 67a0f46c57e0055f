// Services: one headless metrics Service per component (Prometheus scrapes every pod behind it)
// and the operator's webhook Service.
import { componentMeta, selectorLabels } from './labels.js';
import { COMPONENTS, METRICS_PORT, WEBHOOK, type ComponentName } from './names.js';
import type { Service } from './objects.js';
import { MONITORING_PORT_NAME, WEBHOOK_PORT_NAME } from './workloads.js';

export function metricsService(component: ComponentName, namespace: string, version?: string): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: componentMeta(component, COMPONENTS[component].metricsService, namespace, version),
    spec: {
      type: 'ClusterIP',
      clusterIP: 'None',
      selector: selectorLabels(component),
      ports: [
        { name: MONITORING_PORT_NAME, port: METRICS_PORT, targetPort: MONITORING_PORT_NAME, protocol: 'TCP' },
      ],
    },
  };
}

/** The API server calls the operator's validating webhook through this Service. */
export function webhookService(namespace: string, version?: string): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: componentMeta('operator', WEBHOOK.service, namespace, version),
    spec: {
      type: 'ClusterIP',
      selector: selectorLabels('operator'),
      ports: [
        {
          name: WEBHOOK_PORT_NAME,
          port: WEBHOOK.servicePort,
          targetPort: WEBHOOK_PORT_NAME,
          protocol: 'TCP',
        },
      ],
    },
  };
}
