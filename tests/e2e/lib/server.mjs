// Starts a real `integr8scode serve` on a free loopback port with a fresh data directory,
// and waits until it reports ready. Set INTEGR8SCODE_E2E_URL to test a server that is
// already running instead (then per-test environment overrides cannot apply).
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { logDir, repoRoot } from './paths.mjs';

export function binaryPath() {
  const configured = process.env.INTEGR8SCODE_BIN ?? 'build/ci/src/app/integr8scode';
  return isAbsolute(configured) ? configured : join(repoRoot, configured);
}

// The server refuses INTEGR8SCODE_* variables that are not settings, so the ones that
// configure this harness stay here.
const kHarnessVariables = ['INTEGR8SCODE_BIN', 'INTEGR8SCODE_E2E_URL'];

function serverEnvironment() {
  const env = { ...process.env };
  for (const name of kHarnessVariables) delete env[name];
  return env;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.unref();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

async function waitReady(baseUrl, child, output) {
  const deadline = Date.now() + 60_000;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`integr8scode serve exited (${child.exitCode ?? child.signalCode}) before it was ready; see ${output}`);
    }
    try {
      const response = await fetch(`${baseUrl}/api/v1/health/ready`);
      if (response.ok) return;
      last = `HTTP ${response.status}: ${await response.text()}`;
    } catch (error) {
      last = String(error?.cause?.code ?? error);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`integr8scode serve was not ready within 60 s (last answer: ${last}); see ${output}`);
}

/**
 * @param {string} name a label for the log file
 * @param {Record<string,string>} env extra environment, e.g. rate limits
 * @returns {Promise<{baseUrl: string, stop: () => Promise<void>, halt: () => Promise<void>, kill: () => Promise<void>, resume: () => Promise<void>}>}
 */
export async function startServer(name, env = {}) {
  if (process.env.INTEGR8SCODE_E2E_URL) {
    return { baseUrl: process.env.INTEGR8SCODE_E2E_URL.replace(/\/$/, ''), stop: async () => {}, external: true };
  }
  const binary = binaryPath();
  if (!existsSync(binary)) throw new Error(`no server binary at ${binary}; build it or set INTEGR8SCODE_BIN`);
  mkdirSync(logDir, { recursive: true });
  const dataDir = mkdtempSync(join(tmpdir(), 'integr8scode-e2e-'));
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const output = join(logDir, `server-${name}.log`);
  const log = createWriteStream(output);
  let child = null;
  let exited = null;

  function spawnServer() {
    child = spawn(binary, ['serve', '--listen', `127.0.0.1:${port}`, '--data-dir', dataDir], {
      cwd: repoRoot,
      env: {
        ...serverEnvironment(),
        // The built UI and the runtime catalog of this checkout (wherever the binary was
        // built), and cheap password hashing: these tests are about
        // the browser, and Argon2id at full cost makes every register and log-in slow.
        INTEGR8SCODE_SERVER_WEB_ROOT: join(repoRoot, 'web', 'dist'),
        INTEGR8SCODE_CATALOG: join(repoRoot, 'runtimes', 'catalog.toml'),
        INTEGR8SCODE_AUTH_ARGON2: 'min',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.pipe(log, { end: false });
    child.stderr.pipe(log, { end: false });
    exited = new Promise((resolve) => child.once('exit', resolve));
  }

  /** Stops the process (SIGTERM, as an operator would), keeping the data directory. */
  async function halt() {
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
  }

  /** Kills the process outright (SIGKILL), as a crash would, keeping the data directory. */
  async function kill() {
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  }

  async function stop() {
    await halt();
    log.end();
    rmSync(dataDir, { recursive: true, force: true });
  }

  /** Starts the stopped server again on the same port and data directory. */
  async function resume() {
    spawnServer();
    await waitReady(baseUrl, child, output);
  }

  spawnServer();
  try {
    await waitReady(baseUrl, child, output);
  } catch (error) {
    await stop();
    throw error;
  }
  return { baseUrl, stop, halt, kill, resume, external: false };
}
