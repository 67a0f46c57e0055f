// Reads the lab API server's audit log (see `auditPolicy` in control-plane.ts): which requests
// each of our ServiceAccounts made, as `ApiUse`s for `compareUsage`.
import { readFileSync } from 'node:fs';
import type { ApiUse } from '@metallb-ts/manifests';

interface AuditEvent {
  stage?: string;
  verb?: string;
  requestReceivedTimestamp?: string;
  user?: { username?: string };
  objectRef?: {
    apiGroup?: string;
    resource?: string;
    subresource?: string;
    namespace?: string;
    name?: string;
  };
  responseStatus?: { code?: number };
}

/** A request of a ServiceAccount, with who made it and when the API server received it. */
export interface AuditedUse extends ApiUse {
  readonly user: string;
  readonly receivedMs: number;
}

/**
 * The resource requests (non-resource URLs such as discovery are left out) completed or started
 * (watches) at or after `sinceMs`, by any user, read from the audit log at `path`.
 */
export function readAuditLog(path: string, sinceMs: number): AuditedUse[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`audit log ${path} cannot be read (is --audit-log-path set?): ${String(e)}`);
  }
  return parseAuditLog(text, sinceMs);
}

/**
 * `readAuditLog` on the log's text: one use per event, with the object's name where the API
 * server recorded one (a request on one object, a create, a list or watch selecting one name).
 * Lines that are not audit events are skipped.
 */
export function parseAuditLog(text: string, sinceMs: number): AuditedUse[] {
  const out: AuditedUse[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    let e: AuditEvent;
    try {
      e = JSON.parse(line) as AuditEvent;
    } catch {
      continue;
    }
    const ref = e.objectRef;
    if (!ref?.resource || !e.verb || !e.user?.username) continue;
    if (e.stage !== 'ResponseComplete' && e.stage !== 'ResponseStarted') continue;
    const receivedMs = Date.parse(e.requestReceivedTimestamp ?? '');
    if (!(receivedMs >= sinceMs)) continue;
    out.push({
      user: e.user.username,
      receivedMs,
      verb: e.verb,
      group: ref.apiGroup ?? '',
      resource: ref.subresource ? `${ref.resource}/${ref.subresource}` : ref.resource,
      ...(ref.namespace ? { namespace: ref.namespace } : {}),
      ...(ref.name ? { name: ref.name } : {}),
      code: e.responseStatus?.code ?? 0,
    });
  }
  return out;
}

/** The user name of ServiceAccount `namespace/name` in audit events. */
export const serviceAccountUser = (namespace: string, name: string): string =>
  `system:serviceaccount:${namespace}:${name}`;
