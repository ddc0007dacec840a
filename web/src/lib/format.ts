import type { Execution, ExecutionStatus, Limits } from './api/types';

export function formatBytes(bytes: number | null | undefined): string {
  if (bytes == null || !Number.isFinite(bytes)) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const digits = unit === 0 || value >= 100 || Number.isInteger(value) ? 0 : 1;
  return `${value.toFixed(digits)} ${units[unit]}`;
}

export function formatMs(ms: number | null | undefined): string {
  if (ms == null || !Number.isFinite(ms)) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const seconds = ms / 1000;
  return `${seconds >= 10 ? seconds.toFixed(0) : seconds.toFixed(2).replace(/\.?0+$/, '')} s`;
}

export function formatCpu(millicores: number | null | undefined): string {
  if (millicores == null) return '—';
  if (millicores % 1000 === 0) return `${millicores / 1000} core${millicores === 1000 ? '' : 's'}`;
  return `${millicores}m (${(millicores / 1000).toFixed(2).replace(/0+$/, '')} core)`;
}

export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
}

/** "3 min ago", "yesterday"… for lists; falls back to the date past a week. */
export function formatRelative(iso: string | null | undefined, now: number = Date.now()): string {
  if (!iso) return '—';
  const then = new Date(iso).getTime();
  if (Number.isNaN(then)) return iso;
  const seconds = Math.round((now - then) / 1000);
  if (seconds < 45) return 'just now';
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 24) return `${hours} h ago`;
  const days = Math.round(hours / 24);
  if (days < 7) return days === 1 ? 'yesterday' : `${days} days ago`;
  return new Date(iso).toLocaleDateString(undefined, { dateStyle: 'medium' });
}

const kStatusLabels: Record<ExecutionStatus, string> = {
  queued: 'Queued',
  running: 'Running',
  completed: 'Completed',
  failed: 'Failed',
  compile_error: 'Compile error',
  timed_out: 'Timed out',
  memory_exceeded: 'Out of memory',
  output_exceeded: 'Too much output',
  cancelled: 'Cancelled',
  error: 'Platform error',
};

export function statusLabel(status: string | null | undefined): string {
  if (!status) return 'Ready';
  if (status === 'submitting') return 'Starting';
  return kStatusLabels[status as ExecutionStatus] ?? status;
}

/** The colour family of a status badge. */
export function statusTone(status: string | null | undefined): 'neutral' | 'info' | 'success' | 'danger' | 'warning' {
  switch (status) {
    case 'running':
    case 'queued':
    case 'submitting':
      return 'info';
    case 'completed':
      return 'success';
    case 'failed':
    case 'error':
      return 'danger';
    case 'compile_error':
    case 'timed_out':
    case 'memory_exceeded':
    case 'output_exceeded':
      return 'warning';
    default:
      return 'neutral';
  }
}

/** Ends a sentence from the server with a full stop unless it has its own. */
function sentence(text: string): string {
  return /[.!?…]$/.test(text) ? text : `${text}.`;
}

/** Server messages are lower-case clauses ("killed by SIGSEGV"); shown alone, they start a sentence. */
export function capitalize(text: string): string {
  return text.length > 0 ? text[0]!.toUpperCase() + text.slice(1) : text;
}

function limitsOf(execution: Execution): Partial<Limits> {
  return execution.limits ?? {};
}

/**
 * One clear sentence saying how a finished run ended, for the statuses where the exit code
 * alone does not tell (limits, compile errors, cancellation, platform errors, crashes).
 * Null when there is nothing to add (a clean exit).
 */
export function outcomeSentence(execution: Execution): string | null {
  const limits = limitsOf(execution);
  const message = execution.message?.trim() || null;
  switch (execution.status) {
    case 'completed':
      return null;
    case 'failed':
      // The server's message names the signal and says more (its meaning, a hint): once.
      if (execution.signal) return message ? capitalize(sentence(message)) : `The program was killed by ${execution.signal}.`;
      if (execution.exit_code != null) return `The program exited with code ${execution.exit_code}.`;
      return message ?? 'The program failed.';
    case 'timed_out':
      return `Stopped: the program ran longer than the ${limits.timeout_ms != null ? formatMs(limits.timeout_ms) : ''} time limit.`.replace('the  time', 'the time');
    case 'memory_exceeded':
      return `Stopped: the program used more than the ${limits.memory_bytes != null ? formatBytes(limits.memory_bytes) + ' ' : ''}memory limit.`;
    case 'output_exceeded':
      return `Stopped: the program wrote more than the ${limits.output_bytes != null ? formatBytes(limits.output_bytes) + ' ' : ''}output limit.`;
    case 'compile_error':
      return `The program did not compile${message ? `: ${sentence(message)}` : '.'} The compiler's messages are in the output below.`;
    case 'cancelled':
      return 'Cancelled: the run was stopped on request.';
    case 'error':
      return `The platform could not run this program${message ? `: ${sentence(message)}` : '.'} This is not a problem in your code; try again.`;
    default:
      return message;
  }
}

/** The server's own sentence, when it says more than ours. */
export function extraMessage(execution: Execution): string | null {
  const message = execution.message?.trim();
  if (!message) return null;
  // Our sentence already covers limits, cancellation, compile and platform errors.
  if (execution.status !== 'failed' && execution.status !== 'completed') return null;
  if (execution.status === 'failed' && execution.signal) return null; // it is the sentence
  return message;
}
