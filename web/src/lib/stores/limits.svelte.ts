import type { ExecuteRequest, Limits, LimitsInfo } from '../api/types';
import { safeGet, safeSet } from './theme.svelte';

/** The limits a request may choose (POST /execute's `limits`). */
export type ChosenLimits = NonNullable<ExecuteRequest['limits']>;
export type LimitName = keyof ChosenLimits;

export const kLimitNames: LimitName[] = ['timeout_ms', 'memory_bytes', 'cpu_millicores', 'output_bytes', 'pids'];

/** The server's smallest workable values (src/domain/limits.hpp kMinimumLimits). */
export const kMinimum: Required<ChosenLimits> = {
  timeout_ms: 100,
  memory_bytes: 8 * 1024 * 1024,
  cpu_millicores: 10,
  output_bytes: 1024,
  pids: 1,
};

const kStorageKey = 'integr8scode-limits';

export function clampLimit(name: LimitName, value: number, maximum: Limits): number {
  if (!Number.isFinite(value)) return kMinimum[name];
  return Math.min(maximum[name], Math.max(kMinimum[name], Math.round(value)));
}

/**
 * The limits this browser chose for its runs, remembered in localStorage. Values are kept
 * as chosen; what is sent is clamped to the server's maximums (they may have changed since),
 * and only the values that differ from the server's defaults are sent.
 */
export class LimitsChoice {
  values = $state<ChosenLimits>({});

  constructor(private readonly storage: { get(key: string): string | null; set(key: string, value: string): void } = { get: safeGet, set: safeSet }) {
    try {
      const parsed: unknown = JSON.parse(this.storage.get(kStorageKey) ?? '{}');
      if (parsed && typeof parsed === 'object') {
        const chosen: ChosenLimits = {};
        for (const name of kLimitNames) {
          const value = (parsed as Record<string, unknown>)[name];
          if (typeof value === 'number' && Number.isFinite(value) && value > 0) chosen[name] = value;
        }
        this.values = chosen;
      }
    } catch {
      this.values = {};
    }
  }

  /** The effective value: the choice (within the maximum) or the server's default. */
  effective(name: LimitName, info: LimitsInfo): number {
    const chosen = this.values[name];
    return chosen === undefined ? info.defaults[name] : clampLimit(name, chosen, info.maximum);
  }

  set(name: LimitName, value: number, info: LimitsInfo): void {
    const next = { ...this.values };
    const clamped = clampLimit(name, value, info.maximum);
    if (clamped === info.defaults[name]) delete next[name];
    else next[name] = clamped;
    this.values = next;
    this.save();
  }

  reset(): void {
    this.values = {};
    this.save();
  }

  get custom(): boolean {
    return Object.keys(this.values).length > 0;
  }

  /** What to put in the request: the chosen values that differ from the defaults. */
  forRequest(info: LimitsInfo | null): ChosenLimits | undefined {
    if (!info) return undefined;
    const out: ChosenLimits = {};
    for (const name of kLimitNames) {
      if (this.values[name] === undefined) continue;
      const value = this.effective(name, info);
      if (value !== info.defaults[name]) out[name] = value;
    }
    return Object.keys(out).length > 0 ? out : undefined;
  }

  private save(): void {
    this.storage.set(kStorageKey, JSON.stringify(this.values));
  }
}
