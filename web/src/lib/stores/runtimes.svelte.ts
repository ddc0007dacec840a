import type { ApiClient } from '../api/client';
import { errorText } from '../api/errors';
import type { ExampleScript, Limits, LimitsInfo, Runtime } from '../api/types';

export function runtimeKey(lang: string, version: string): string {
  return `${lang}:${version}`;
}

const kLanguageLabels: Record<string, string> = {
  bash: 'Bash',
  c: 'C',
  cpp: 'C++',
  go: 'Go',
  java: 'Java',
  lua: 'Lua',
  node: 'JavaScript (Node.js)',
  perl: 'Perl',
  php: 'PHP',
  pypy: 'PyPy',
  python: 'Python',
  ruby: 'Ruby',
  rust: 'Rust',
};

export function languageLabel(lang: string): string {
  return kLanguageLabels[lang] ?? lang.charAt(0).toUpperCase() + lang.slice(1);
}

/** Compares dotted versions numerically, part by part ("3.15" > "3.9"); text parts as text. */
export function compareVersions(a: string, b: string): number {
  const left = a.split(/[.-]/);
  const right = b.split(/[.-]/);
  for (let i = 0; i < Math.max(left.length, right.length); i++) {
    const x = left[i] ?? '';
    const y = right[i] ?? '';
    const nx = Number(x);
    const ny = Number(y);
    const order = x !== '' && y !== '' && !Number.isNaN(nx) && !Number.isNaN(ny) ? nx - ny : x.localeCompare(y);
    if (order !== 0) return order;
  }
  return 0;
}

export interface RuntimeGroup {
  lang: string;
  label: string;
  runtimes: Runtime[];
}

/** The picker's view: one group per language (by label), its versions newest first. */
export function groupRuntimes(runtimes: Runtime[]): RuntimeGroup[] {
  const groups = new Map<string, RuntimeGroup>();
  for (const r of runtimes) {
    let group = groups.get(r.lang);
    if (!group) {
      group = { lang: r.lang, label: languageLabel(r.lang), runtimes: [] };
      groups.set(r.lang, group);
    }
    group.runtimes.push(r);
  }
  const list = [...groups.values()];
  for (const group of list) group.runtimes.sort((a, b) => compareVersions(b.version, a.version));
  return list.sort((a, b) => a.label.localeCompare(b.label));
}

/** The language/version catalog, limits in force and example scripts, loaded once. */
export class RuntimesStore {
  runtimes = $state<Runtime[]>([]);
  limits = $state<LimitsInfo | null>(null);
  examples = $state<ExampleScript[]>([]);
  loaded = $state(false);
  loading = $state(false);
  error = $state<string | null>(null);

  constructor(private readonly api: ApiClient) {}

  async load(): Promise<void> {
    this.loading = true;
    this.error = null;
    // Limits and examples are extras: the editor works without them, so only the catalog's
    // failure is an error for the page.
    const [runtimes, limits, examples] = await Promise.allSettled([
      this.api.runtimes(),
      this.api.limits(),
      this.api.examples(),
    ]);
    if (runtimes.status === 'fulfilled') {
      this.runtimes = runtimes.value.runtimes ?? [];
      this.loaded = true;
    } else {
      this.error = errorText(runtimes.reason);
    }
    if (limits.status === 'fulfilled') this.limits = limits.value;
    if (examples.status === 'fulfilled') this.examples = examples.value.scripts ?? [];
    this.loading = false;
  }

  find(lang: string, version: string): Runtime | undefined {
    return this.runtimes.find((r) => r.lang === lang && r.version === version);
  }

  example(lang: string, version: string): ExampleScript | undefined {
    return this.examples.find((e) => e.lang === lang && e.version === version);
  }

  get defaults(): Limits | null {
    return this.limits?.defaults ?? null;
  }

  get available(): Runtime[] {
    return this.runtimes.filter((r) => r.available);
  }

  /**
   * The runtime to select at start: the remembered one if still available, else the first
   * available Python (the original's language), else the first available runtime at all.
   */
  initial(remembered: string | null): Runtime | undefined {
    const available = this.available;
    if (remembered) {
      const match = available.find((r) => runtimeKey(r.lang, r.version) === remembered);
      if (match) return match;
    }
    return available.find((r) => r.lang === 'python') ?? available[0] ?? this.runtimes[0];
  }
}
