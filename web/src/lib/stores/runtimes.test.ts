import { describe, expect, it } from 'vitest';
import { ApiClient } from '../api/client';
import { RuntimesStore, compareVersions, groupRuntimes } from './runtimes.svelte';
import { fakeFetch, json, problem, type Handler } from '../../test/fakes';
import type { Runtime } from '../api/types';

function runtime(lang: string, version: string, display_name: string, available = true): Runtime {
  return { lang, version, display_name, implementation: '', file_extension: '', editor_mode: lang, available, reason: available ? 'ok' : 'not installed', has_compile: false };
}

const catalog = [
  runtime('node', '20', 'Node.js 20'),
  runtime('python', '3.11', 'Python 3.11', false),
  runtime('python', '3.9', 'Python 3.9 (PyPy)'),
];
const limits = { memory_bytes: 134217728, cpu_millicores: 1000, timeout_ms: 5000, pids: 64, output_bytes: 1048576 };

function setup(handler: Handler) {
  const fake = fakeFetch(handler);
  return new RuntimesStore(new ApiClient({ fetchImpl: fake.fetch, cookies: () => '' }));
}

const ok: Handler = (call) => {
  if (call.url.endsWith('/runtimes')) return json(200, { runtimes: catalog });
  if (call.url.endsWith('/limits')) return json(200, { defaults: limits, maximum: limits, runtimes: catalog });
  return json(200, { scripts: [{ lang: 'python', version: '3.9', script: 'print(1)', description: 'd' }] });
};

describe('RuntimesStore', () => {
  it('loads the catalog, limits and examples', async () => {
    const store = setup(ok);
    await store.load();
    expect(store.loaded).toBe(true);
    expect(store.runtimes.map((r) => r.display_name)).toEqual(['Node.js 20', 'Python 3.11', 'Python 3.9 (PyPy)']);
    expect(store.defaults?.timeout_ms).toBe(5000);
    expect(store.example('python', '3.9')?.script).toBe('print(1)');
    expect(store.find('python', '3.11')?.available).toBe(false);
  });

  it('starts on the remembered runtime, else the first available Python, never an unavailable one', async () => {
    const store = setup(ok);
    await store.load();
    expect(store.initial('node:20')?.display_name).toBe('Node.js 20');
    expect(store.initial('python:3.11')?.display_name).toBe('Python 3.9 (PyPy)');
    expect(store.initial(null)?.display_name).toBe('Python 3.9 (PyPy)');
  });

  it('works without examples and limits, and reports a failed catalog', async () => {
    const partial = setup((call) => (call.url.endsWith('/runtimes') ? json(200, { runtimes: catalog }) : problem(500, 'internal', 'broken')));
    await partial.load();
    expect(partial.loaded).toBe(true);
    expect(partial.error).toBeNull();
    expect(partial.examples).toEqual([]);

    const failed = setup(() => problem(503, 'unavailable', 'The server is starting up.'));
    await failed.load();
    expect(failed.loaded).toBe(false);
    expect(failed.error).toBe('The server is starting up.');
  });
});

describe('groupRuntimes', () => {
  it('groups by language, sorted by label, versions newest first, keeping ones not installed', () => {
    const groups = groupRuntimes([
      runtime('python', '3.11', 'Python 3.11'),
      runtime('ruby', '3.3', 'Ruby 3.3', false),
      runtime('python', '3.9', 'Python 3.9'),
      runtime('python', '3.15', 'Python 3.15', false),
      runtime('cpp', '12', 'C++20 (G++ 12)'),
      runtime('cpp', '14', 'C++23 (G++ 14)'),
      runtime('pypy', '3.9', 'Python 3.9 (PyPy)'),
    ]);
    expect(groups.map((g) => g.label)).toEqual(['C++', 'PyPy', 'Python', 'Ruby']);
    expect(groups.map((g) => g.runtimes.map((r) => r.version))).toEqual([['14', '12'], ['3.9'], ['3.15', '3.11', '3.9'], ['3.3']]);
    expect(groups.at(3)?.runtimes.at(0)?.available).toBe(false);
  });

  it('compares versions by number, not by text', () => {
    expect(compareVersions('3.15', '3.9')).toBeGreaterThan(0);
    expect(compareVersions('1.24', '1.24')).toBe(0);
    expect(compareVersions('5.40', '5.4')).toBeGreaterThan(0);
    expect(compareVersions('21', '8')).toBeGreaterThan(0);
  });
});
