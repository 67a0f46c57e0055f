// AdmissionReview v1 in and out, as a pure function of the path and the body: the HTTPS server
// only moves bytes. Anything malformed is a 400 with a reason, never an exception.
import {
  validateL2AdvertisementAdmission,
  validateMetalLB,
  validatePoolAdmission,
  type AdmissionVerdict,
  type ExistingPools,
} from '@metallb-ts/api';
import { WEBHOOK_PATHS } from '@metallb-ts/manifests';

export type WebhookKind = keyof typeof WEBHOOK_PATHS;

export interface ReviewContext {
  /** The MetalLB namespace: pools and advertisements elsewhere are refused. */
  readonly namespace: string;
  /**
   * The pools that exist now: from the operator's caches (`poolsFromCaches`) or read live
   * (`poolsFromApi`). May throw or reject (caches not synced, API unreachable): pools are then
   * refused with "try again".
   */
  readonly listPools: () => ExistingPools | Promise<ExistingPools>;
}

/** What to send back: an HTTP status and a JSON body. */
export interface ReviewReply {
  readonly status: number;
  readonly body: unknown;
  /** For the log line: what was decided about which object. */
  readonly summary?: {
    kind: string;
    key: string;
    operation: string;
    allowed: boolean;
    message?: string;
  };
}

const KIND_BY_PATH = new Map<string, WebhookKind>(
  Object.entries(WEBHOOK_PATHS).map(([kind, path]) => [path, kind as WebhookKind]),
);

/** The kind a path validates, or undefined for a path the server does not serve. */
export function kindForPath(path: string): WebhookKind | undefined {
  return KIND_BY_PATH.get(path.split('?')[0]!);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const badRequest = (message: string): ReviewReply => ({ status: 400, body: { error: message } });

async function decide(
  kind: WebhookKind,
  obj: Record<string, unknown>,
  ctx: ReviewContext,
): Promise<AdmissionVerdict> {
  switch (kind) {
    case 'MetalLB':
      return validateMetalLB(obj);
    case 'L2Advertisement':
      return validateL2AdvertisementAdmission(obj, ctx.namespace, await listOrUndefined(ctx));
    case 'IPAddressPool':
    case 'AddressPool': {
      let pools: ExistingPools;
      try {
        pools = await ctx.listPools();
      } catch (e) {
        const meta = isRecord(obj.metadata) ? obj.metadata : {};
        const message = `${kind} ${String(meta.namespace)}/${String(meta.name)}: cannot compare with the existing pools yet (${e instanceof Error ? e.message : String(e)}); try again shortly`;
        return { allowed: false, message, problems: [message], warnings: [] };
      }
      return validatePoolAdmission(obj, pools, ctx.namespace);
    }
  }
}

/** Warnings about missing pools are a courtesy: without synced caches there are none. */
async function listOrUndefined(ctx: ReviewContext): Promise<ExistingPools | undefined> {
  try {
    return await ctx.listPools();
  } catch {
    return undefined;
  }
}

/** Kubernetes shows at most this much of each warning; longer ones are cut here, visibly. */
const MAX_WARNING = 256;

/** Answers one AdmissionReview POSTed to `path` with `body`. */
export async function reviewAdmission(path: string, body: string, ctx: ReviewContext): Promise<ReviewReply> {
  const kind = kindForPath(path);
  if (!kind) return { status: 404, body: { error: `no webhook at ${path}` } };
  let review: unknown;
  try {
    review = JSON.parse(body);
  } catch (e) {
    return badRequest(`the body is not JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!isRecord(review) || review.kind !== 'AdmissionReview' || review.apiVersion !== 'admission.k8s.io/v1')
    return badRequest('expected an AdmissionReview of apiVersion admission.k8s.io/v1');
  const request = review.request;
  if (!isRecord(request) || typeof request.uid !== 'string' || request.uid === '')
    return badRequest('the AdmissionReview has no request with a uid');
  const uid = request.uid;
  const operation = typeof request.operation === 'string' ? request.operation : '';
  const reply = (verdict: AdmissionVerdict, summary: ReviewReply['summary']): ReviewReply => ({
    status: 200,
    summary,
    body: {
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      response: {
        uid,
        allowed: verdict.allowed,
        ...(verdict.allowed ? {} : { status: { code: 403, reason: 'Forbidden', message: verdict.message } }),
        ...(verdict.warnings.length > 0
          ? {
              warnings: verdict.warnings.map((w) =>
                w.length > MAX_WARNING ? `${w.slice(0, MAX_WARNING - 1)}…` : w,
              ),
            }
          : {}),
      },
    },
  });

  const requestKind =
    isRecord(request.kind) && typeof request.kind.kind === 'string' ? request.kind.kind : kind;
  const namespace = typeof request.namespace === 'string' ? request.namespace : '';
  const name = typeof request.name === 'string' ? request.name : '';
  const key = `${namespace}/${name}`;
  // Deleting is always fine; nothing else (CONNECT) is ever routed here.
  if (operation !== 'CREATE' && operation !== 'UPDATE')
    return reply({ allowed: true, warnings: [] }, { kind: requestKind, key, operation, allowed: true });
  if (requestKind !== kind) {
    const message = `webhook ${path} validates ${kind} objects, not ${requestKind}: the ValidatingWebhookConfiguration routes the wrong kind here`;
    return reply(
      { allowed: false, message, problems: [message], warnings: [] },
      { kind: requestKind, key, operation, allowed: false, message },
    );
  }
  if (!isRecord(request.object)) return badRequest(`the ${operation} request carries no object`);
  // The API server fills in the namespace and kind before admission, but be sure.
  const meta = isRecord(request.object.metadata) ? request.object.metadata : {};
  const obj = {
    ...request.object,
    kind: typeof request.object.kind === 'string' ? request.object.kind : requestKind,
    metadata: { ...meta, ...(typeof meta.namespace === 'string' ? {} : { namespace }) },
  };
  // An object being deleted is only waiting on its finalizers: refusing the update that removes
  // one (the operator's, or a person's by hand) would keep it forever, whatever its spec says.
  const verdict: AdmissionVerdict =
    operation === 'UPDATE' && meta.deletionTimestamp !== undefined && meta.deletionTimestamp !== null
      ? { allowed: true, warnings: [] }
      : await decide(kind, obj, ctx);
  return reply(verdict, {
    kind: requestKind,
    key: `${typeof obj.metadata.namespace === 'string' ? obj.metadata.namespace : namespace}/${typeof meta.name === 'string' ? meta.name : name}`,
    operation,
    allowed: verdict.allowed,
    ...(verdict.allowed ? {} : { message: verdict.message }),
  });
}
