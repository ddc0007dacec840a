import { describe, expect, it } from 'vitest';

// The modules' static imports form no cycle: in a cycle, evaluation order decides which side
// sees the other half-built (the singletons once needed mutable forward references for it).
// Type-only imports are erased and a dynamic import() runs later, so neither counts.

// Every source file's text, keyed './lib/app.svelte.ts' and so on (Vite reads them).
const kSources: Record<string, string> = import.meta.glob(['./**/*.ts', './**/*.svelte', '!./**/*.test.ts'], {
  query: '?raw',
  import: 'default',
  eager: true,
});

function dirname(path: string): string {
  return path.slice(0, path.lastIndexOf('/'));
}

/** './lib/stores' + '../api/client' → './lib/api/client' */
function join(dir: string, specifier: string): string {
  const parts = dir.split('/');
  for (const part of specifier.split('/')) {
    if (part === '..') parts.pop();
    else if (part !== '.') parts.push(part);
  }
  return parts.join('/');
}

/** The project files a module imports for their values, as keys of `files`. */
export function staticImports(file: string, text: string, files: ReadonlySet<string>): string[] {
  const found: string[] = [];
  const statement = /^\s*import\s+(type\s+)?(?:[\w*{}\s,$]+?\s+from\s+)?['"]([^'"]+)['"]/gm;
  for (const [, typeOnly, specifier] of text.matchAll(statement)) {
    if (typeOnly || !specifier?.startsWith('.')) continue;
    const path = join(dirname(file), specifier);
    found.push([path, `${path}.ts`, `${path}.svelte.ts`].find((p) => files.has(p)) ?? path);
  }
  return found;
}

/** One cycle as a list of files (the first repeated at the end), or null. */
export function findCycle(graph: Map<string, string[]>): string[] | null {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): string[] | null => {
    if (state.get(node) === 'done') return null;
    if (state.get(node) === 'open') return [...stack.slice(stack.indexOf(node)), node];
    state.set(node, 'open');
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(node, 'done');
    return null;
  };
  for (const node of graph.keys()) {
    const cycle = visit(node);
    if (cycle) return cycle;
  }
  return null;
}

describe('module graph', () => {
  it('reads value imports and skips type-only ones', () => {
    const files = new Set(['./lib/app.svelte.ts', './lib/api/client.ts', './lib/stores/theme.svelte.ts']);
    const text = [
      "import { ApiClient } from './api/client';",
      "import type { User } from './api/types';",
      "import {\n  a,\n  b,\n} from './stores/theme.svelte';",
      "import { mount } from 'svelte';",
      "const later = () => import('./pages/Lazy.svelte');",
    ].join('\n');
    expect(staticImports('./lib/app.svelte.ts', text, files)).toEqual(['./lib/api/client.ts', './lib/stores/theme.svelte.ts']);
  });

  it('finds a cycle when there is one', () => {
    const graph = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a']],
    ]);
    expect(findCycle(graph)).toEqual(['a', 'b', 'c', 'a']);
    expect(findCycle(new Map([['a', ['b']], ['b', []]]))).toBeNull();
  });

  it('has no import cycle in src/', () => {
    const files = new Set(Object.keys(kSources));
    const graph = new Map<string, string[]>();
    for (const [file, source] of Object.entries(kSources)) {
      // A component's imports are in its <script> blocks.
      const text = file.endsWith('.svelte') ? [...source.matchAll(/<script[^>]*>([\s\S]*?)<\/script>/g)].map((m) => m[1]).join('\n') : source;
      graph.set(file, staticImports(file, text, files));
    }
    expect(graph.size).toBeGreaterThan(20);
    expect(graph.get('./App.svelte')).toContain('./lib/app.svelte.ts');
    expect(findCycle(graph)?.join(' → ') ?? null).toBeNull();
  });
});
