import { ApiClient } from './api/client';
import { ConnectionMonitor } from './stores/connection.svelte';
import { EditorDocument } from './stores/document.svelte';
import { RuntimesStore } from './stores/runtimes.svelte';
import { ScriptsStore } from './stores/scripts.svelte';
import { SessionStore } from './stores/session.svelte';
import { ThemeStore } from './stores/theme.svelte';
import { ExecutionRun } from './stores/execution.svelte';
import { LimitsChoice } from './stores/limits.svelte';
import { Router } from './router.svelte';

// The page's singletons. Stores take their dependencies in constructors (tests build their
// own); only this file wires the real ones together. Each is built after what it needs and
// subscribes to the client's events once built, so nothing refers forward.

export const api = new ApiClient();

export const connection = new ConnectionMonitor(async () => {
  try {
    const response = await fetch(api.url('/health/live'), { cache: 'no-store' });
    return response.ok;
  } catch {
    return false;
  }
});
api.onServerTrouble(() => connection.report());

export const session = new SessionStore(api);
// The cookie expired or the token was revoked: show the page as logged out.
api.onUnauthorized(() => session.expired());

export const router = new Router();
export const theme = new ThemeStore();
export const runtimes = new RuntimesStore(api);
export const scripts = new ScriptsStore(api);
export const editorDocument = new EditorDocument();
/** The limits this browser chose for its runs. */
export const limitsChoice = new LimitsChoice();

/** The editor page's run; kept here so it survives a visit to another page. */
export const editorRun = new ExecutionRun(api, (url) => new EventSource(url));
// Back from an outage: a run that lost its stream is looked at now, and a "cannot reach the
// server" refusal is no longer true.
connection.onRecover(() => editorRun.serverRecovered());

export function newRun(): ExecutionRun {
  return new ExecutionRun(api, (url) => new EventSource(url));
}
