import type { Problem } from './types';

export type ApiErrorKind = 'http' | 'network' | 'aborted';

/**
 * A failed API call, carrying what the UI needs to say something useful: the problem
 * document's `detail` and `code`, the HTTP status, and `Retry-After` in seconds.
 */
export class ApiError extends Error {
  readonly kind: ApiErrorKind;
  readonly status: number;
  readonly code: string | null;
  readonly detail: string | null;
  readonly field: string | null;
  readonly requestId: string | null;
  readonly retryAfterSeconds: number | null;

  constructor(init: {
    kind: ApiErrorKind;
    status?: number;
    problem?: Problem | null;
    retryAfterSeconds?: number | null;
    requestId?: string | null;
  }) {
    const problem = init.problem ?? null;
    const status = init.status ?? 0;
    super(userMessage(init.kind, status, problem, init.retryAfterSeconds ?? null));
    this.name = 'ApiError';
    this.kind = init.kind;
    this.status = status;
    this.code = problem?.code ?? null;
    this.detail = problem?.detail ?? null;
    this.field = problem?.field ?? null;
    this.requestId = problem?.request_id ?? init.requestId ?? null;
    this.retryAfterSeconds = init.retryAfterSeconds ?? null;
  }

  /** True when the server itself is unreachable or failing, as opposed to refusing a request. */
  get isServerTrouble(): boolean {
    if (this.kind === 'network') return true;
    return this.kind === 'http' && this.status >= 500 && this.code !== 'queue_full';
  }
}

function userMessage(kind: ApiErrorKind, status: number, problem: Problem | null, retry_after: number | null): string {
  if (kind === 'network') return 'Cannot reach the server. Check your connection; the page retries on its own.';
  if (kind === 'aborted') return 'The request was cancelled.';
  if (status === 429) {
    return retry_after != null
      ? `Too many requests — try again in ${retry_after} s`
      : 'Too many requests — try again in a moment';
  }
  // Details are clauses ("script must not be empty"); shown alone they start a sentence.
  const detail = problem?.detail?.trim();
  if (detail) return detail[0]!.toUpperCase() + detail.slice(1);
  const title = problem?.title?.trim();
  if (title) return title[0]!.toUpperCase() + title.slice(1);
  if (status >= 500) return `The server had a problem (HTTP ${status}). Try again in a moment.`;
  if (status === 401) return 'Please log in first.';
  if (status === 403) return 'You are not allowed to do that.';
  if (status === 404) return 'Not found.';
  return `The request failed (HTTP ${status}).`;
}

/** Parses Retry-After: delay-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | null {
  if (value == null) return null;
  const trimmed = value.trim();
  if (trimmed === '') return null;
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const when = Date.parse(trimmed);
  if (Number.isNaN(when)) return null;
  return Math.max(0, Math.ceil((when - now) / 1000));
}

/** A readable sentence for any thrown value; never a stack trace. */
export function errorText(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error && error.message) return `Something went wrong: ${error.message}`;
  return 'Something went wrong.';
}
