import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { DEFAULT_NAMESPACE } from '@metallb-ts/manifests';
import { defaultBinDir } from './paths.js';
import { createPki, issueClientCert, type Pki } from './pki.js';
import { writeKubeconfig } from './kubeconfig.js';
import { describeRun, run, type RunResult } from './run.js';
import { isRunning, readState, startProcess, stopProcess, type ProcessRecord } from './processes.js';
import { waitFor } from './wait-for.js';

/** Fixed lab addressing (documentation ranges only). */
export const ETCD_CLIENT_PORT = 23790;
export const ETCD_PEER_PORT = 23800;
export const APISERVER_PORT = 16443;
/** kube-scheduler's health port (kubelet lab only). */
export const SCHEDULER_PORT = 16459;
/** The host's address on the management bridge; node namespaces reach the API server here. */
export const MGMT_HOST_IP = '198.51.100.1';
/** ClusterIP ranges: apart from the management /25 (nodes and pods) and the data subnets, dual-stack for IPv6 scenarios. */
export const SERVICE_CIDRS = ['198.51.100.128/25', '2001:db8:ffff::/112'] as const;
/** First address of the IPv4 service range: the `kubernetes` Service's ClusterIP. */
export const KUBERNETES_SERVICE_IP = '198.51.100.129';

export const COMPONENT_NAMES = [
  'etcd',
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
] as const;
export type ControlPlaneComponent = (typeof COMPONENT_NAMES)[number];

// Off: the lab has no kubelets (node-lifecycle would mark pods NotReady and taint nodes), no cloud,
// no pod CIDRs, no volumes; and service-lb-controller is exactly the job of our own controller.
const KCM_CONTROLLERS = [
  '*',
  '-node-lifecycle-controller',
  '-node-ipam-controller',
  '-cloud-node-lifecycle-controller',
  '-service-lb-controller',
  '-node-route-controller',
  '-persistentvolume-binder-controller',
  '-persistentvolume-attach-detach-controller',
].join(',');

// With real kubelets (the kubelet lab) nodes have heartbeats, so node-lifecycle runs as in any
// cluster: a dead node turns NotReady and its pods' endpoints go.
const KCM_CONTROLLERS_WITH_KUBELETS = KCM_CONTROLLERS.replace(',-node-lifecycle-controller', '');

export interface ControlPlaneOptions {
  /** Working folder: certificates, kubeconfigs, etcd data, logs and the state file. */
  readonly dir: string;
  /** Where etcd, kube-apiserver, kube-controller-manager and kubectl are (default: the build cache). */
  readonly binDir?: string;
  /** Start kube-controller-manager too (default true). */
  readonly controllerManager?: boolean;
  /**
   * Real kubelets will run the nodes (the kubelet lab): kube-scheduler runs, node-lifecycle is on,
   * and the API server may call kubelets (logs, exec) with the admin identity.
   */
  readonly kubelets?: boolean;
  /** Progress lines (default: none). */
  readonly progress?: (line: string) => void;
}

export interface KubectlOptions {
  readonly input?: string;
  readonly timeoutMs?: number;
  /** Another identity (default: the admin kubeconfig). */
  readonly kubeconfig?: string;
}

export interface ControlPlane {
  readonly dir: string;
  readonly binDir: string;
  readonly pki: Pki;
  readonly caFile: string;
  /** Admin (system:masters) kubeconfig talking to `server.local`. */
  readonly adminKubeconfig: string;
  readonly server: { readonly local: string; readonly lab: string };
  /** Log file of each component. */
  readonly logs: Readonly<Record<ControlPlaneComponent, string>>;
  /**
   * kube-apiserver's audit log (JSON lines, one event per request, Metadata level): every request
   * by a ServiceAccount of the install namespace, i.e. by our components. See `auditPolicy`.
   */
  readonly auditLog: string;
  /** Runs kubectl (admin unless told otherwise); never throws. */
  kubectl(args: readonly string[], options?: KubectlOptions): Promise<RunResult>;
  /** Runs kubectl and throws with its output unless it exits 0; returns stdout. */
  kubectlOk(args: readonly string[], options?: KubectlOptions): Promise<string>;
  /** GET a path with admin credentials (for probes); resolves with status and body. */
  apiGet(path: string): Promise<{ status: number; body: string }>;
  /** Stops kube-apiserver and starts it again (etcd and the controller manager keep running). */
  restartApiServer(): Promise<void>;
  /** Stops kube-apiserver and leaves it stopped (etcd and the controller manager keep running). */
  stopApiServer(): Promise<void>;
  /** Starts kube-apiserver again after `stopApiServer`, with the same flags, and waits for /readyz. */
  startApiServer(): Promise<void>;
  /**
   * Stops etcd (by the PID the lab recorded) and starts it again with the same flags and data
   * dir, then waits for etcd's health and the API server's /readyz (which reconnects by itself).
   */
  restartEtcd(): Promise<void>;
  /** Stops every component (controller manager, API server, etcd). Files stay in `dir`. */
  stop(): Promise<void>;
}

function paths(dir: string) {
  const pkiDir = join(dir, 'pki');
  const logDir = join(dir, 'logs');
  return {
    pkiDir,
    logDir,
    etcdData: join(dir, 'etcd'),
    adminKubeconfig: join(dir, 'admin.kubeconfig'),
    auditPolicy: join(dir, 'audit-policy.yaml'),
    auditLog: join(logDir, 'audit.log'),
    kcmKubeconfig: join(dir, 'kube-controller-manager.kubeconfig'),
    schedulerKubeconfig: join(dir, 'kube-scheduler.kubeconfig'),
    kubeletsMarker: join(dir, 'kubelets'),
    logs: {
      etcd: join(logDir, 'etcd.log'),
      'kube-apiserver': join(logDir, 'kube-apiserver.log'),
      'kube-controller-manager': join(logDir, 'kube-controller-manager.log'),
      'kube-scheduler': join(logDir, 'kube-scheduler.log'),
    } satisfies Record<ControlPlaneComponent, string>,
  };
}

/**
 * The API server's audit policy: who our components are (the ServiceAccounts of `namespace`) and
 * what they did (verb, resource, subresource, namespace, name, response code), without bodies;
 * nothing about anyone else. The least-privilege test compares this with the generated RBAC.
 */
export function auditPolicy(namespace: string): string {
  return [
    'apiVersion: audit.k8s.io/v1',
    'kind: Policy',
    // One event per request, when its response is complete (watches: also when they start).
    'omitStages: [RequestReceived]',
    'rules:',
    '  - level: Metadata',
    `    userGroups: ['system:serviceaccounts:${namespace}']`,
    '  - level: None',
    '',
  ].join('\n');
}

const apiserverSans = [
  'IP:127.0.0.1',
  `IP:${MGMT_HOST_IP}`,
  `IP:${KUBERNETES_SERVICE_IP}`,
  'DNS:localhost',
  'DNS:kubernetes',
  'DNS:kubernetes.default',
  'DNS:kubernetes.default.svc',
  'DNS:kubernetes.default.svc.cluster.local',
];

/**
 * A handle on a control plane whose files are in `dir` (started now or by an earlier process,
 * e.g. jest's global setup or `lab up`). Starts nothing.
 */
export function attachControlPlane(options: { dir: string; binDir?: string }): ControlPlane {
  return build(options).cp;
}

/**
 * The control plane the e2e jest global set-up started, attached through the folder it names in
 * METALLB_TS_LAB_DIR; throws when a test runs outside that set-up.
 */
export function labControlPlane(): ControlPlane {
  const dir = process.env.METALLB_TS_LAB_DIR;
  if (!dir) throw new Error('METALLB_TS_LAB_DIR is not set: run through pnpm test:e2e (jest global set-up)');
  return attachControlPlane({ dir });
}

interface Built {
  readonly cp: ControlPlane;
  startEtcd(): ProcessRecord;
  waitEtcd(): Promise<void>;
  startApiServer(): ProcessRecord;
  waitReady(): Promise<void>;
}

function build(options: { dir: string; binDir?: string }): Built {
  const dir = options.dir;
  const binDir = options.binDir ?? defaultBinDir();
  const p = paths(dir);
  const pki: Pki = {
    ca: { cert: join(p.pkiDir, 'ca.crt'), key: join(p.pkiDir, 'ca.key') },
    apiserver: { cert: join(p.pkiDir, 'apiserver.crt'), key: join(p.pkiDir, 'apiserver.key') },
    admin: { cert: join(p.pkiDir, 'admin.crt'), key: join(p.pkiDir, 'admin.key') },
    controllerManager: {
      cert: join(p.pkiDir, 'kube-controller-manager.crt'),
      key: join(p.pkiDir, 'kube-controller-manager.key'),
    },
    serviceAccountKey: join(p.pkiDir, 'sa.key'),
    serviceAccountPub: join(p.pkiDir, 'sa.pub'),
  };
  const local = `https://127.0.0.1:${APISERVER_PORT}`;
  const lab = `https://${MGMT_HOST_IP}:${APISERVER_PORT}`;

  const kubectl = (args: readonly string[], o: KubectlOptions = {}): Promise<RunResult> =>
    run(
      [
        join(binDir, 'kubectl'),
        `--kubeconfig=${o.kubeconfig ?? p.adminKubeconfig}`,
        '--request-timeout=20s',
        ...args,
      ],
      {
        input: o.input,
        timeoutMs: o.timeoutMs ?? 30_000,
      },
    );

  const apiGet = (path: string): Promise<{ status: number; body: string }> =>
    new Promise((resolveGet, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: APISERVER_PORT,
          path,
          method: 'GET',
          ca: readFileSync(pki.ca.cert),
          cert: readFileSync(pki.admin.cert),
          key: readFileSync(pki.admin.key),
          timeout: 5_000,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolveGet({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
          );
        },
      );
      req.on('timeout', () => req.destroy(new Error(`GET ${path} timed out`)));
      req.on('error', reject);
      req.end();
    });

  // No anonymous requests except the health endpoints: node namespaces probe /readyz without
  // credentials (the lab topology test does), everything else needs a certificate or a token.
  // `--anonymous-auth=false` would refuse those probes too, and cannot be combined with this file.
  const authenticationConfig = join(dir, 'authentication-config.yaml');
  const startApiServer = (): ProcessRecord => {
    writeFileSync(
      authenticationConfig,
      [
        'apiVersion: apiserver.config.k8s.io/v1',
        'kind: AuthenticationConfiguration',
        'anonymous:',
        '  enabled: true',
        '  conditions:',
        '    - path: /livez',
        '    - path: /readyz',
        '    - path: /healthz',
        '',
      ].join('\n'),
    );
    writeFileSync(p.auditPolicy, auditPolicy(DEFAULT_NAMESPACE));
    return startProcess(
      dir,
      'kube-apiserver',
      [
        join(binDir, 'kube-apiserver'),
        `--etcd-servers=http://127.0.0.1:${ETCD_CLIENT_PORT}`,
        '--bind-address=0.0.0.0',
        `--secure-port=${APISERVER_PORT}`,
        `--advertise-address=${MGMT_HOST_IP}`,
        `--cert-dir=${join(dir, 'apiserver-certs')}`,
        `--tls-cert-file=${pki.apiserver.cert}`,
        `--tls-private-key-file=${pki.apiserver.key}`,
        `--client-ca-file=${pki.ca.cert}`,
        `--authentication-config=${authenticationConfig}`,
        '--authorization-mode=Node,RBAC',
        '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
        `--service-account-key-file=${pki.serviceAccountPub}`,
        `--service-account-signing-key-file=${pki.serviceAccountKey}`,
        `--service-cluster-ip-range=${SERVICE_CIDRS.join(',')}`,
        '--allow-privileged=true',
        // Webhooks are called at their Service's endpoints (the lab has no kube-proxy on the host).
        '--enable-aggregator-routing=true',
        // Admin only (/debug/pprof): `pnpm bench scale` can sample where the API server's CPU goes.
        '--profiling=true',
        '--event-ttl=2h',
        `--audit-policy-file=${p.auditPolicy}`,
        `--audit-log-path=${p.auditLog}`,
        // Written before the response is sent, so a test reads every request it caused; never
        // rotated during a run (Metadata level for our two or three ServiceAccounts only).
        '--audit-log-mode=blocking',
        // Only the kubelet lab has kubelets to call (kubectl logs/exec go through the API server).
        ...(existsSync(p.kubeletsMarker)
          ? [
              `--kubelet-client-certificate=${pki.admin.cert}`,
              `--kubelet-client-key=${pki.admin.key}`,
              // Node names do not resolve in the lab; their management addresses do.
              '--kubelet-preferred-address-types=InternalIP',
            ]
          : []),
        '--v=1',
      ],
      p.logs['kube-apiserver'],
    );
  };

  const startEtcd = (): ProcessRecord =>
    startProcess(
      dir,
      'etcd',
      [
        join(binDir, 'etcd'),
        '--name=lab',
        `--data-dir=${p.etcdData}`,
        `--listen-client-urls=http://127.0.0.1:${ETCD_CLIENT_PORT}`,
        `--advertise-client-urls=http://127.0.0.1:${ETCD_CLIENT_PORT}`,
        `--listen-peer-urls=http://127.0.0.1:${ETCD_PEER_PORT}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${ETCD_PEER_PORT}`,
        `--initial-cluster=lab=http://127.0.0.1:${ETCD_PEER_PORT}`,
        // A throw-away lab store: durability is not worth the fsync latency on a shared disk.
        '--unsafe-no-fsync',
        '--log-level=warn',
      ],
      p.logs.etcd,
    );

  const waitEtcd = (): Promise<void> =>
    waitFor(
      `etcd health on 127.0.0.1:${ETCD_CLIENT_PORT} (log: ${p.logs.etcd})`,
      async () => {
        const rec = readState(dir).processes.etcd;
        if (rec && !isRunning(rec)) throw new Error(`etcd exited; see ${p.logs.etcd}`);
        // A wedged etcd must count as one failed probe, not stall the wait beyond its own timeout.
        const res = await fetch(`http://127.0.0.1:${ETCD_CLIENT_PORT}/health`, {
          signal: AbortSignal.timeout(2000),
        });
        const body = await res.text();
        return res.ok && body.includes('true')
          ? { done: true, value: undefined }
          : { done: false, observed: body };
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );

  const waitReady = (): Promise<void> =>
    waitFor(
      `kube-apiserver /readyz on ${local} (log: ${p.logs['kube-apiserver']})`,
      async () => {
        const rec = readState(dir).processes['kube-apiserver'];
        if (rec && !isRunning(rec)) throw new Error(`kube-apiserver exited; see ${p.logs['kube-apiserver']}`);
        const r = await apiGet('/readyz');
        return r.status === 200
          ? { done: true, value: undefined }
          : { done: false, observed: `${r.status} ${r.body}` };
      },
      { timeoutMs: 90_000, intervalMs: 250 },
    );

  const stopComponent = async (name: ControlPlaneComponent): Promise<void> => {
    const rec = readState(dir).processes[name];
    // kube-apiserver stops listening at once on SIGTERM but may linger for tens of seconds on
    // open watches; after a short grace it is killed (a hard stop is a fair restart scenario too).
    if (rec) await stopProcess(rec, 'SIGTERM', name === 'kube-apiserver' ? 3_000 : 10_000);
  };

  const cp: ControlPlane = {
    dir,
    binDir,
    pki,
    caFile: pki.ca.cert,
    adminKubeconfig: p.adminKubeconfig,
    server: { local, lab },
    logs: p.logs,
    auditLog: p.auditLog,
    kubectl,
    async kubectlOk(args, o) {
      const r = await kubectl(args, o);
      if (r.code !== 0) throw new Error(describeRun(r));
      return r.stdout;
    },
    apiGet,
    async restartApiServer() {
      await stopComponent('kube-apiserver');
      startApiServer();
      await waitReady();
    },
    stopApiServer: () => stopComponent('kube-apiserver'),
    async startApiServer() {
      startApiServer();
      await waitReady();
    },
    async restartEtcd() {
      await stopComponent('etcd');
      startEtcd();
      await waitEtcd();
      await waitReady();
    },
    async stop() {
      for (const name of [...COMPONENT_NAMES].reverse()) await stopComponent(name);
    },
  };
  return { cp, startEtcd, waitEtcd, startApiServer, waitReady };
}

/**
 * Generates credentials (once per `dir`) and starts etcd, kube-apiserver and (by default)
 * kube-controller-manager, waiting for each with a bounded poll.
 */
export async function startControlPlane(options: ControlPlaneOptions): Promise<ControlPlane> {
  const progress = options.progress ?? (() => undefined);
  const binDir = options.binDir ?? defaultBinDir();
  for (const b of ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kubectl']) {
    if (!existsSync(join(binDir, b))) {
      throw new Error(`missing ${join(binDir, b)}: run bash e2e/scripts/build-control-plane.sh first`);
    }
  }
  const dir = options.dir;
  const p = paths(dir);
  mkdirSync(p.pkiDir, { recursive: true });
  if (options.kubelets) writeFileSync(p.kubeletsMarker, 'the kubelet lab: the API server calls kubelets\n');
  else rmSync(p.kubeletsMarker, { force: true });
  mkdirSync(p.logDir, { recursive: true });
  progress(`control plane: credentials in ${p.pkiDir}`);
  const pki = await createPki(p.pkiDir, apiserverSans);
  const built = build({ dir, binDir });
  const cp = built.cp;
  writeKubeconfig(p.adminKubeconfig, cp.server.local, pki.ca.cert, 'admin', {
    kind: 'cert',
    certFile: pki.admin.cert,
    keyFile: pki.admin.key,
  });
  writeKubeconfig(p.kcmKubeconfig, cp.server.local, pki.ca.cert, 'kube-controller-manager', {
    kind: 'cert',
    certFile: pki.controllerManager.cert,
    keyFile: pki.controllerManager.key,
  });

  progress(`control plane: etcd on 127.0.0.1:${ETCD_CLIENT_PORT}`);
  built.startEtcd();
  await built.waitEtcd();

  progress(`control plane: kube-apiserver on 0.0.0.0:${APISERVER_PORT}`);
  built.startApiServer();
  await built.waitReady();

  if (options.controllerManager ?? true) {
    progress('control plane: kube-controller-manager');
    const kcmRecord = startProcess(
      dir,
      'kube-controller-manager',
      [
        join(binDir, 'kube-controller-manager'),
        `--kubeconfig=${p.kcmKubeconfig}`,
        `--authentication-kubeconfig=${p.kcmKubeconfig}`,
        `--authorization-kubeconfig=${p.kcmKubeconfig}`,
        '--use-service-account-credentials=true',
        `--service-account-private-key-file=${pki.serviceAccountKey}`,
        `--root-ca-file=${pki.ca.cert}`,
        `--cluster-signing-cert-file=${pki.ca.cert}`,
        `--cluster-signing-key-file=${pki.ca.key}`,
        `--controllers=${options.kubelets ? KCM_CONTROLLERS_WITH_KUBELETS : KCM_CONTROLLERS}`,
        '--leader-elect=false',
        '--bind-address=127.0.0.1',
        '--secure-port=16457',
        `--cert-dir=${join(dir, 'kcm-certs')}`,
        '--v=1',
      ],
      p.logs['kube-controller-manager'],
    );
    // The serviceaccount controller creating `default` in kube-system is proof the manager works.
    await waitFor(
      `kube-controller-manager to create ServiceAccount kube-system/default (log: ${p.logs['kube-controller-manager']})`,
      async () => {
        if (!isRunning(kcmRecord))
          throw new Error(`kube-controller-manager exited; see ${p.logs['kube-controller-manager']}`);
        const r = await cp.apiGet('/api/v1/namespaces/kube-system/serviceaccounts/default');
        return r.status === 200 ? { done: true, value: undefined } : { done: false, observed: r.status };
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
  }
  if (options.kubelets) {
    progress('control plane: kube-scheduler');
    const cert = await issueClientCert(p.pkiDir, 'kube-scheduler', pki.ca, 'system:kube-scheduler');
    writeKubeconfig(p.schedulerKubeconfig, cp.server.local, pki.ca.cert, 'system:kube-scheduler', {
      kind: 'cert',
      certFile: cert.cert,
      keyFile: cert.key,
    });
    const scheduler = startProcess(
      dir,
      'kube-scheduler',
      [
        join(binDir, 'kube-scheduler'),
        `--kubeconfig=${p.schedulerKubeconfig}`,
        `--authentication-kubeconfig=${p.schedulerKubeconfig}`,
        `--authorization-kubeconfig=${p.schedulerKubeconfig}`,
        '--leader-elect=false',
        '--bind-address=127.0.0.1',
        `--secure-port=${SCHEDULER_PORT}`,
        '--v=1',
      ],
      p.logs['kube-scheduler'],
    );
    await waitFor(
      `kube-scheduler /healthz on 127.0.0.1:${SCHEDULER_PORT} (log: ${p.logs['kube-scheduler']})`,
      async () => {
        if (!isRunning(scheduler)) throw new Error(`kube-scheduler exited; see ${p.logs['kube-scheduler']}`);
        const r = await run([
          'curl',
          '-sk',
          '--max-time',
          '2',
          `https://127.0.0.1:${SCHEDULER_PORT}/healthz`,
        ]);
        return r.stdout.trim() === 'ok'
          ? { done: true, value: undefined }
          : { done: false, observed: r.stdout };
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
  }
  progress('control plane: ready');
  return cp;
}
