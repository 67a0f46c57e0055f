// The lab's service proxy (what kube-proxy does in IPVS mode with strictARP): keeps every node
// namespace's kube-ipvs0 holding exactly the current status.loadBalancer.ingress IPs of all
// LoadBalancer Services, so traffic for a VIP that reaches a node is delivered locally. It never
// answers ARP/NDP (arp_ignore=1 in the nodes; the device is NOARP) — only the speaker does.
// Port mapping: there is none; the lab's backends listen on the Service port (80) and the target
// port (8080) alike, which needs no netfilter in the namespaces.
// Usage: lab-proxy.ts <kubeconfig> <ns,ns,...> [interval-ms]
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { run } from './run.js';

const [kubeconfigPath, nsList, intervalArg] = process.argv.slice(2);
if (!kubeconfigPath || !nsList) {
  process.stderr.write('usage: lab-proxy.ts <kubeconfig> <ns,ns,...> [interval-ms]\n');
  process.exit(2);
}
const namespaces = nsList.split(',');
const intervalMs = Number(intervalArg ?? 250);
const VIP_IF = 'kube-ipvs0';
const REPAIR_EVERY_MS = 5_000;

interface Kubeconfig {
  clusters: { cluster: { server: string; 'certificate-authority-data': string } }[];
  users: { user: { 'client-certificate-data': string; 'client-key-data': string } }[];
}
const kc = JSON.parse(readFileSync(kubeconfigPath, 'utf8')) as Kubeconfig;
const server = new URL(kc.clusters[0]!.cluster.server);
const b64 = (s: string) => Buffer.from(s, 'base64');
const agent = new Agent({
  keepAlive: true,
  ca: b64(kc.clusters[0]!.cluster['certificate-authority-data']),
  cert: b64(kc.users[0]!.user['client-certificate-data']),
  key: b64(kc.users[0]!.user['client-key-data']),
});

const log = (msg: string, extra: Record<string, unknown> = {}) =>
  process.stdout.write(
    `${JSON.stringify({ ts: new Date().toISOString(), component: 'lab-proxy', msg, ...extra })}\n`,
  );

interface ServiceList {
  items: {
    metadata: { namespace: string; name: string };
    spec?: { type?: string };
    status?: { loadBalancer?: { ingress?: { ip?: string }[] } };
  }[];
}

function listServices(): Promise<ServiceList> {
  return new Promise((resolveList, reject) => {
    const req = request(
      {
        host: server.hostname,
        port: server.port,
        path: '/api/v1/services',
        agent,
        timeout: 5_000,
        headers: { accept: 'application/json' },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          if (res.statusCode !== 200) reject(new Error(`list services: HTTP ${res.statusCode}`));
          else resolveList(JSON.parse(Buffer.concat(chunks).toString('utf8')) as ServiceList);
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('list services timed out')));
    req.on('error', reject);
    req.end();
  });
}

function desiredVips(list: ServiceList): Set<string> {
  const vips = new Set<string>();
  for (const s of list.items) {
    if (s.spec?.type !== 'LoadBalancer') continue;
    for (const i of s.status?.loadBalancer?.ingress ?? []) if (i.ip) vips.add(i.ip);
  }
  return vips;
}

async function currentVips(ns: string): Promise<Set<string> | undefined> {
  const r = await run(['ip', '-n', ns, '-j', 'addr', 'show', 'dev', VIP_IF]);
  if (r.code !== 0) return undefined;
  const links = JSON.parse(r.stdout || '[]') as { addr_info?: { local: string; scope: string }[] }[];
  return new Set(
    links
      .flatMap((l) => l.addr_info ?? [])
      .filter((a) => a.scope === 'global')
      .map((a) => a.local),
  );
}

async function converge(ns: string, want: Set<string>): Promise<void> {
  const have = await currentVips(ns);
  if (!have) return; // namespace gone (lab going down): nothing to do
  const cmds: string[] = [];
  for (const ip of want)
    if (!have.has(ip))
      cmds.push(
        ip.includes(':') ? `addr add ${ip}/128 dev ${VIP_IF} nodad` : `addr add ${ip}/32 dev ${VIP_IF}`,
      );
  for (const ip of have)
    if (!want.has(ip)) cmds.push(`addr del ${ip}/${ip.includes(':') ? 128 : 32} dev ${VIP_IF}`);
  if (cmds.length === 0) return;
  const r = await run(['ip', '-n', ns, '-force', '-batch', '-'], { input: `${cmds.join('\n')}\n` });
  log('converged', {
    ns,
    changes: cmds,
    ok: r.code === 0,
    ...(r.code === 0 ? {} : { stderr: r.stderr.trim() }),
  });
}

let stopping = false;
const stop = () => {
  stopping = true;
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

log('starting', { namespaces, intervalMs, server: server.href });
let applied = '';
let lastRepair = 0;
let lastError = '';
while (!stopping) {
  try {
    const want = desiredVips(await listServices());
    const key = [...want].sort().join(',');
    if (key !== applied || Date.now() - lastRepair > REPAIR_EVERY_MS) {
      await Promise.all(namespaces.map((ns) => converge(ns, want)));
      if (key !== applied) log('vips', { vips: [...want].sort() });
      applied = key;
      lastRepair = Date.now();
    }
    lastError = '';
  } catch (e) {
    // API server restarts are part of the scenarios: keep the last state and retry.
    const msg = e instanceof Error ? e.message : String(e);
    if (msg !== lastError) log('list failed; retrying', { error: msg });
    lastError = msg;
  }
  await new Promise((r) => setTimeout(r, intervalMs));
}
log('stopped');
agent.destroy();
