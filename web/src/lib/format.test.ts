import { describe, expect, it } from 'vitest';
import { extraMessage, formatBytes, formatMs, outcomeSentence, statusLabel } from './format';
import { execution } from '../test/fakes';

describe('format', () => {
  it('formats sizes and durations', () => {
    expect(formatBytes(134217728)).toBe('128 MiB');
    expect(formatBytes(9617408)).toBe('9.2 MiB');
    expect(formatBytes(512)).toBe('512 B');
    expect(formatMs(31)).toBe('31 ms');
    expect(formatMs(5000)).toBe('5 s');
    expect(formatMs(1500)).toBe('1.5 s');
  });

  it('says clearly why a run ended', () => {
    expect(outcomeSentence(execution())).toBeNull();
    expect(outcomeSentence(execution({ status: 'failed', exit_code: 3 }))).toBe('The program exited with code 3.');
    expect(outcomeSentence(execution({ status: 'failed', exit_code: null, signal: 'SIGSEGV' }))).toBe('The program was killed by SIGSEGV.');
    expect(outcomeSentence(execution({ status: 'timed_out' }))).toBe('Stopped: the program ran longer than the 5 s time limit.');
    expect(outcomeSentence(execution({ status: 'memory_exceeded' }))).toBe('Stopped: the program used more than the 128 MiB memory limit.');
    expect(outcomeSentence(execution({ status: 'output_exceeded' }))).toBe('Stopped: the program wrote more than the 1 MiB output limit.');
    expect(outcomeSentence(execution({ status: 'compile_error', message: 'gcc exited with 1' }))).toBe(
      "The program did not compile: gcc exited with 1. The compiler's messages are in the output below.",
    );
    expect(outcomeSentence(execution({ status: 'cancelled' }))).toMatch(/^Cancelled/);
    expect(outcomeSentence(execution({ status: 'error', message: 'the sandbox could not start' }))).toMatch(/could not run this program: the sandbox could not start/);
  });

  it('says a crash once, in the words of the server, starting with a capital', () => {
    const crashed = execution({ status: 'failed', exit_code: null, signal: 'SIGSEGV', message: 'killed by SIGSEGV (segmentation fault)' });
    const shown = [outcomeSentence(crashed), extraMessage(crashed)].filter(Boolean).join(' ');
    expect(shown).toBe('Killed by SIGSEGV (segmentation fault).');
    expect(shown.match(/SIGSEGV/g)).toHaveLength(1);
  });

  it('labels statuses', () => {
    expect(statusLabel(null)).toBe('Ready');
    expect(statusLabel('memory_exceeded')).toBe('Out of memory');
  });
});
