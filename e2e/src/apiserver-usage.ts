// What the lab's control plane saw during a benchmark run: kube-apiserver's request and watch
// counters, APF queueing and etcd's disk syncs, the writes our ServiceAccounts made (the audit
// log) and a CPU profile of kube-apiserver (the lab serves /debug/pprof to admin).
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { COMPONENTS } from '@metallb-ts/manifests';
import { readAuditLog, serviceAccountUser } from './audit.js';
import { INSTALL_NAMESPACE } from './cluster-setup.js';
import { APISERVER_PORT, ETCD_CLIENT_PORT, type ControlPlane } from './control-plane.js';

/** The API server's counters: apiserver_request_total per verb/resource/subresource, watch events sent per resource. */
export async function apiCounters(cp: ControlPlane): Promise<Map<string, number>> {
  const r = await cp.apiGet('/metrics');
  if (r.status !== 200) throw new Error(`GET /metrics: HTTP ${r.status}`);
  const out = new Map<string, number>();
  const label = (line: string, k: string) => new RegExp(`[{,]${k}="([^"]*)"`).exec(line)?.[1] ?? '';
  for (const line of r.body.split('\n')) {
    let key: string | undefined;
    if (line.startsWith('apiserver_request_total{')) {
      const sub = label(line, 'subresource');
      key = `${label(line, 'verb')} ${label(line, 'resource')}${sub ? `/${sub}` : ''}`;
    } else if (line.startsWith('apiserver_watch_events_total{'))
      key = `watch events ${label(line, 'resource')}`;
    else if (line.startsWith('apiserver_flowcontrol_request_wait_duration_seconds_sum{'))
      key = `${TOTAL}APF queue wait s (${label(line, 'priority_level')})`;
    if (key) out.set(key, (out.get(key) ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  // etcd runs with --unsafe-no-fsync: its WAL fsyncs should stay at zero.
  const etcd = await fetch(`http://127.0.0.1:${ETCD_CLIENT_PORT}/metrics`).then((r) => r.text());
  for (const line of etcd.split('\n')) {
    const m =
      /^(etcd_disk_wal_fsync_duration_seconds_(?:count|sum)|etcd_disk_backend_commit_duration_seconds_sum) (\S+)$/.exec(
        line,
      );
    if (m) out.set(`${TOTAL}${m[1]}`, Number(m[2]));
  }
  return out;
}

/** Counters shown as run totals, not per Service. */
const TOTAL = 'total: ';

export function totals(before: Map<string, number>, after: Map<string, number>): string {
  return [...after]
    .filter(([k]) => k.startsWith(TOTAL))
    .map(([k, v]) => `${k.slice(TOTAL.length)} ${Math.round((v - (before.get(k) ?? 0)) * 1000) / 1000}`)
    .join(', ');
}

/** Per Service: the counters that grew over a run (the largest first), e.g. "PATCH services/status 1". */
export function perService(before: Map<string, number>, after: Map<string, number>, n: number): string {
  return [...after]
    .filter(([k]) => !k.startsWith(TOTAL))
    .map(([k, v]) => [k, (v - (before.get(k) ?? 0)) / n] as const)
    .filter(([, d]) => d >= 0.05)
    .sort((x, y) => y[1] - x[1])
    .map(([k, d]) => `${k} ${d.toFixed(2)}`)
    .join(', ');
}

/**
 * kube-apiserver's CPU profile over `seconds` (/debug/pprof/profile, admin only; the lab runs it
 * with --profiling) into a file under the temp folder; resolves with the file's path.
 */
export function apiServerProfile(cp: ControlPlane, label: string, seconds: number): Promise<string> {
  const file = join(tmpdir(), `scale-apiserver-${label}-${Date.now()}.pprof.gz`);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: APISERVER_PORT,
        path: `/debug/pprof/profile?seconds=${seconds}`,
        ca: readFileSync(cp.pki.ca.cert),
        cert: readFileSync(cp.pki.admin.cert),
        key: readFileSync(cp.pki.admin.key),
      },
      (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          reject(new Error(`GET /debug/pprof/profile: HTTP ${res.statusCode}`));
          return;
        }
        res
          .pipe(createWriteStream(file))
          .on('finish', () => resolve(file))
          .on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

const WRITE_VERBS = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);

/**
 * Writes by the controller's and the speakers' ServiceAccounts since `sinceMs`, from the lab's
 * audit log: Lease renewals left out (they follow the clock, not the Services). Undefined when the
 * lab runs without an audit log.
 */
export function auditedWrites(
  cp: ControlPlane,
  sinceMs: number,
): { controller: number; speaker: number; byKind: Record<string, number> } | undefined {
  if (!existsSync(cp.auditLog)) return undefined;
  const users = {
    [serviceAccountUser(INSTALL_NAMESPACE, COMPONENTS.controller.serviceAccount)]: 'controller',
    [serviceAccountUser(INSTALL_NAMESPACE, COMPONENTS.speaker.serviceAccount)]: 'speaker',
  } as const;
  const out = { controller: 0, speaker: 0, byKind: {} as Record<string, number> };
  for (const u of readAuditLog(cp.auditLog, sinceMs)) {
    const who = users[u.user];
    if (!who || !WRITE_VERBS.has(u.verb) || u.resource === 'leases') continue;
    out[who]++;
    const k = `${who} ${u.verb} ${u.resource}`;
    out.byKind[k] = (out.byKind[k] ?? 0) + 1;
  }
  return out;
}
