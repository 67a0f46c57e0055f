/**
 * The one error type every Kubernetes call rejects with. `status` is the HTTP status (0 when the
 * request never got an answer: connection refused, reset, timeout), `reason` the API's
 * machine-readable reason (`NotFound`, `Conflict`, `AlreadyExists`, `Forbidden`, `Expired`, ...).
 */
export class KubeError extends Error {
  override readonly name = 'KubeError';
  readonly status: number;
  readonly reason: string;
  /** The `Status` object the API server returned, when there was one. */
  readonly body: unknown;
  /** What was being done, e.g. `GET /api/v1/namespaces/default/services/foo`. */
  readonly operation: string;

  constructor(init: { status: number; reason: string; message: string; body?: unknown; operation?: string }) {
    super(init.message);
    this.status = init.status;
    this.reason = init.reason;
    this.body = init.body;
    this.operation = init.operation ?? '';
  }
}

export function isKubeError(e: unknown): e is KubeError {
  return e instanceof KubeError;
}

export function isNotFound(e: unknown): boolean {
  return isKubeError(e) && e.status === 404;
}

export function isConflict(e: unknown): boolean {
  return isKubeError(e) && e.status === 409 && e.reason !== 'AlreadyExists';
}

export function isAlreadyExists(e: unknown): boolean {
  return isKubeError(e) && e.status === 409 && e.reason === 'AlreadyExists';
}

export function isForbidden(e: unknown): boolean {
  return isKubeError(e) && e.status === 403;
}

/** 410 Gone: the resourceVersion a watch or list asked for has been compacted away. */
export function isGone(e: unknown): boolean {
  return isKubeError(e) && (e.status === 410 || e.reason === 'Expired' || e.reason === 'Gone');
}

/** The request never reached an answer (connection refused/reset, timeout). */
export function isNetworkError(e: unknown): boolean {
  return isKubeError(e) && e.status === 0;
}

/** Builds a KubeError from an API `Status` object (a response body or a watch ERROR event). */
export function kubeErrorFromStatus(status: number, body: unknown, operation: string): KubeError {
  const s = (typeof body === 'object' && body !== null ? body : {}) as {
    kind?: unknown;
    reason?: unknown;
    message?: unknown;
    code?: unknown;
  };
  const code = typeof s.code === 'number' && s.code > 0 ? s.code : status;
  const reason = typeof s.reason === 'string' && s.reason !== '' ? s.reason : reasonForStatus(code);
  const message =
    typeof s.message === 'string' && s.message !== ''
      ? s.message
      : typeof body === 'string' && body !== ''
        ? body.slice(0, 500)
        : `${operation}: HTTP ${code}`;
  return new KubeError({
    status: code,
    reason,
    message,
    body: s.kind === 'Status' ? body : undefined,
    operation,
  });
}

function reasonForStatus(status: number): string {
  switch (status) {
    case 400:
      return 'BadRequest';
    case 401:
      return 'Unauthorized';
    case 403:
      return 'Forbidden';
    case 404:
      return 'NotFound';
    case 405:
      return 'MethodNotAllowed';
    case 409:
      return 'Conflict';
    case 410:
      return 'Gone';
    case 415:
      return 'UnsupportedMediaType';
    case 422:
      return 'Invalid';
    case 429:
      return 'TooManyRequests';
    case 500:
      return 'InternalError';
    case 503:
      return 'ServiceUnavailable';
    case 504:
      return 'Timeout';
    default:
      return status === 0 ? 'NetworkError' : 'Unknown';
  }
}
