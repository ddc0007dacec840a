import { describe, expect, it } from 'vitest';
import type { LimitsInfo } from '../api/types';
import { LimitsChoice } from './limits.svelte';

const info: LimitsInfo = {
  defaults: { memory_bytes: 128 << 20, cpu_millicores: 1000, timeout_ms: 5000, pids: 64, output_bytes: 1 << 20 },
  maximum: { memory_bytes: 1 << 30, cpu_millicores: 2000, timeout_ms: 60_000, pids: 256, output_bytes: 16 << 20 },
  runtimes: [],
};

function memoryStorage(initial: Record<string, string> = {}) {
  const data = { ...initial };
  return { data, get: (key: string) => data[key] ?? null, set: (key: string, value: string) => void (data[key] = value) };
}

describe('LimitsChoice', () => {
  it('sends nothing while the defaults are kept', () => {
    const choice = new LimitsChoice(memoryStorage());
    expect(choice.forRequest(info)).toBeUndefined();
    expect(choice.effective('timeout_ms', info)).toBe(5000);
  });

  it('clamps to the maximums and the minimums, and sends only what differs from the defaults', () => {
    const storage = memoryStorage();
    const choice = new LimitsChoice(storage);
    choice.set('timeout_ms', 120_000, info);
    choice.set('memory_bytes', 1, info);
    choice.set('pids', 64, info);
    expect(choice.forRequest(info)).toEqual({ timeout_ms: 60_000, memory_bytes: 8 << 20 });
    expect(JSON.parse(storage.data['integr8scode-limits']!)).toEqual({ timeout_ms: 60_000, memory_bytes: 8 << 20 });
  });

  it('remembers the choice per browser and applies a lowered maximum', () => {
    const storage = memoryStorage({ 'integr8scode-limits': JSON.stringify({ timeout_ms: 30_000, bogus: 1, pids: -3 }) });
    const choice = new LimitsChoice(storage);
    expect(choice.values).toEqual({ timeout_ms: 30_000 });
    const lowered = { ...info, maximum: { ...info.maximum, timeout_ms: 10_000 } };
    expect(choice.forRequest(lowered)).toEqual({ timeout_ms: 10_000 });
    choice.reset();
    expect(choice.forRequest(info)).toBeUndefined();
  });

  it('survives garbage in storage', () => {
    expect(new LimitsChoice(memoryStorage({ 'integr8scode-limits': '{nope' })).values).toEqual({});
  });
});
