import { describe, expect, it } from '@jest/globals';
import type { MetalLBSpec } from '@metallb-ts/api';
import {
  CONTROL_PLANE_TOLERATIONS,
  CONTROLLER_SETTINGS,
  controllerDeployment,
  LABELS,
  METRICS_PORT,
  metricsService,
  NON_ROOT_UID,
  OPERATOR_SETTINGS,
  operatorDeployment,
  readSettings,
  settingsEnv,
  SPEAKER_SETTINGS,
  speakerDaemonSet,
  WEBHOOK,
  webhookService,
  type Container,
  type EnvVar,
} from '../src/index.js';

const images = { controller: 'reg/controller:1', speaker: 'reg/speaker:1' };
const input = (spec: MetalLBSpec = {}) => ({ namespace: 'mlb', spec, images, version: 'v9' });
const envOf = (c: Container): Record<string, EnvVar> => Object.fromEntries(c.env.map((e) => [e.name, e]));
const valueOf = (c: Container, name: string): string | undefined => {
  const e = envOf(c)[name];
  return e && 'value' in e ? e.value : undefined;
};

describe('controllerDeployment', () => {
  const d = controllerDeployment(input());
  const pod = d.spec.template.spec;
  const c = pod.containers[0]!;

  it('selects its own pods by stable labels and runs as its ServiceAccount', () => {
    expect(d.metadata).toMatchObject({ name: 'controller', namespace: 'mlb' });
    expect(d.spec.replicas).toBe(1);
    expect(d.spec.selector.matchLabels).toEqual({
      [LABELS.name]: 'metallb-ts',
      [LABELS.component]: 'controller',
    });
    expect(d.spec.template.metadata.labels).toMatchObject(d.spec.selector.matchLabels);
    expect(d.spec.template.metadata.labels[LABELS.version]).toBe('v9');
    expect(d.spec.selector.matchLabels[LABELS.version]).toBeUndefined();
    expect(pod.serviceAccountName).toBe('controller');
    expect(c.image).toBe(images.controller);
  });

  it('writes every controller setting into the env, pod fields as fieldRefs', () => {
    expect(c.env.map((e) => e.name)).toEqual(Object.values(CONTROLLER_SETTINGS.defs).map((d) => d.env));
    expect(envOf(c)['POD_NAME']).toEqual({
      name: 'POD_NAME',
      valueFrom: { fieldRef: { fieldPath: 'metadata.name' } },
    });
    expect(envOf(c)['METALLB_NAMESPACE']).toEqual({
      name: 'METALLB_NAMESPACE',
      valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } },
    });
    expect(valueOf(c, 'LOG_LEVEL')).toBe('info');
  });

  it('runs as a numeric non-root user with no capabilities', () => {
    expect(c.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: NON_ROOT_UID,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
    expect(c.securityContext.capabilities.add).toBeUndefined();
    expect(c.securityContext.privileged).toBeUndefined();
  });

  it('probes /healthz and /readyz on the monitoring port', () => {
    expect(c.ports).toEqual([{ name: 'monitoring', containerPort: METRICS_PORT, protocol: 'TCP' }]);
    expect(c.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'monitoring' });
    expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'monitoring' });
  });

  it('takes node selector, tolerations and controllerConfig from the spec', () => {
    const spec: MetalLBSpec = {
      logLevel: 'all',
      loadBalancerClass: 'metallb',
      nodeSelector: { speaker: 'only' },
      controllerNodeSelector: { zone: 'a' },
      controllerTolerations: [{ key: 'k', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 5 }],
      controllerConfig: {
        priorityClassName: 'high',
        runtimeClassName: 'gvisor',
        affinity: { nodeAffinity: {} },
        annotations: { a: 'b' },
        resources: { limits: { cpu: '100m' } },
      },
    };
    const d2 = controllerDeployment(input(spec));
    const p = d2.spec.template.spec;
    const c2 = p.containers[0]!;
    expect(p.nodeSelector).toEqual({ 'kubernetes.io/os': 'linux', zone: 'a' });
    expect(p.tolerations).toEqual(spec.controllerTolerations);
    expect(p).toMatchObject({
      priorityClassName: 'high',
      runtimeClassName: 'gvisor',
      affinity: { nodeAffinity: {} },
    });
    expect(d2.spec.template.metadata.annotations).toEqual({ a: 'b' });
    expect(c2.resources).toEqual({ limits: { cpu: '100m' } });
    expect(valueOf(c2, 'LOG_LEVEL')).toBe('debug');
    expect(valueOf(c2, 'LOAD_BALANCER_CLASS')).toBe('metallb');
  });

  it('leaves optional pod fields out when the spec does not set them', () => {
    expect(pod.tolerations).toBeUndefined();
    expect(pod.priorityClassName).toBeUndefined();
    expect(d.spec.template.metadata.annotations).toBeUndefined();
    expect(c.resources).toBeUndefined();
    expect(pod.nodeSelector).toEqual({ 'kubernetes.io/os': 'linux' });
  });

  it('renders an environment the binary accepts', () => {
    const literal = Object.fromEntries(c.env.map((e) => [e.name, 'value' in e ? e.value : 'from-field']));
    const parsed = readSettings(CONTROLLER_SETTINGS, literal);
    expect(parsed.ok).toBe(true);
  });
});

describe('speakerDaemonSet', () => {
  const ds = speakerDaemonSet(
    input({ logLevel: 'warn', speakerTolerations: [{ key: 'x', operator: 'Exists' }] }),
  );
  const pod = ds.spec.template.spec;
  const c = pod.containers[0]!;

  it('has NET_RAW and nothing else, and is not privileged', () => {
    expect(c.securityContext.capabilities).toEqual({ drop: ['ALL'], add: ['NET_RAW'] });
    expect(c.securityContext.privileged).toBe(false);
    expect(c.securityContext.allowPrivilegeEscalation).toBe(false);
    expect(c.securityContext.readOnlyRootFilesystem).toBe(true);
    expect(c.securityContext.runAsUser).toBe(0);
  });

  it("runs in the host's network, rolls one node at a time and stops quickly", () => {
    expect(pod.hostNetwork).toBe(true);
    expect(pod.dnsPolicy).toBe('ClusterFirstWithHostNet');
    expect(pod.terminationGracePeriodSeconds).toBe(5);
    expect(ds.spec.updateStrategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } });
  });

  it('declares the gossip port next to monitoring, and gossips by default', () => {
    expect(c.ports).toEqual([
      { name: 'monitoring', containerPort: METRICS_PORT, protocol: 'TCP' },
      { name: 'memberlist-udp', containerPort: 7946, protocol: 'UDP' },
    ]);
    expect(c.env).toContainEqual({ name: 'MEMBERSHIP', value: 'gossip' });
    expect(c.env).toContainEqual({ name: 'MEMBERLIST_PORT', value: '7946' });
    expect(c.env).toContainEqual({ name: 'MEMBERLIST_SECRET', value: 'memberlist' });
  });

  it('selects its pods, tolerates control-plane nodes and adds the spec tolerations', () => {
    expect(ds.spec.selector.matchLabels).toEqual({
      [LABELS.name]: 'metallb-ts',
      [LABELS.component]: 'speaker',
    });
    expect(ds.spec.template.metadata.labels).toMatchObject(ds.spec.selector.matchLabels);
    expect(pod.tolerations).toEqual([...CONTROL_PLANE_TOLERATIONS, { key: 'x', operator: 'Exists' }]);
    expect(pod.serviceAccountName).toBe('speaker');
  });

  it('env is the speaker settings: NODE_NAME from spec.nodeName, the spec log level', () => {
    expect(c.env).toEqual(settingsEnv(SPEAKER_SETTINGS, { logLevel: 'warn' }));
    expect(envOf(c)['NODE_NAME']).toEqual({
      name: 'NODE_NAME',
      valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } },
    });
    expect(valueOf(c, 'LOAD_BALANCER_CLASS')).toBe('');
  });

  it('takes the speaker node selector, not the controller one', () => {
    const p = speakerDaemonSet(input({ nodeSelector: { a: '1' }, controllerNodeSelector: { b: '2' } })).spec
      .template.spec;
    expect(p.nodeSelector).toEqual({ 'kubernetes.io/os': 'linux', a: '1' });
  });
});

describe('operatorDeployment', () => {
  const d = operatorDeployment({
    namespace: 'ops',
    image: 'reg/operator:2',
    version: 'v2',
    controllerImage: 'reg/controller:2',
    speakerImage: 'reg/speaker:2',
  });
  const c = d.spec.template.spec.containers[0]!;
  it('passes the component images and webhook port through its settings', () => {
    expect(c.env.map((e) => e.name)).toEqual(Object.values(OPERATOR_SETTINGS.defs).map((s) => s.env));
    expect(valueOf(c, 'CONTROLLER_IMAGE')).toBe('reg/controller:2');
    expect(valueOf(c, 'SPEAKER_IMAGE')).toBe('reg/speaker:2');
    expect(valueOf(c, 'WEBHOOK_PORT')).toBe(String(WEBHOOK.port));
    expect(c.ports.map((p) => [p.name, p.containerPort])).toEqual([
      ['monitoring', METRICS_PORT],
      ['webhook', WEBHOOK.port],
    ]);
    expect(c.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: NON_ROOT_UID });
    expect(d.spec.template.spec.serviceAccountName).toBe('operator');
  });
});

describe('Services', () => {
  it('metrics Services select the component pods on the monitoring port', () => {
    for (const component of ['controller', 'speaker', 'operator'] as const) {
      const s = metricsService(component, 'mlb');
      expect(s.metadata).toMatchObject({ name: `${component}-metrics`, namespace: 'mlb' });
      expect(s.spec.selector).toEqual({ [LABELS.name]: 'metallb-ts', [LABELS.component]: component });
      expect(s.spec.ports).toEqual([
        { name: 'monitoring', port: METRICS_PORT, targetPort: 'monitoring', protocol: 'TCP' },
      ]);
    }
  });

  it('the webhook Service reaches the operator pods on the webhook port', () => {
    const s = webhookService('mlb');
    expect(s.metadata.name).toBe(WEBHOOK.service);
    expect(s.spec.selector[LABELS.component]).toBe('operator');
    expect(s.spec.ports).toEqual([
      { name: 'webhook', port: WEBHOOK.servicePort, targetPort: 'webhook', protocol: 'TCP' },
    ]);
  });
});
