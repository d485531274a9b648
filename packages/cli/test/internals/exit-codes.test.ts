import { PlugboardError, type TaskRecord, type TaskState } from '@plugboard/core';
import { describe, expect, it } from 'vitest';
import { ExitCode, errorCodeOf, exitCodeForError, exitCodeForTasks } from '../../src/exit-codes.js';

const ended = (...states: TaskState[]) => states.map((state) => ({ state }) as TaskRecord);

describe('exit codes a shell script branches on', () => {
  it('are 0 only when every task succeeded, or there was none', () => {
    expect(exitCodeForTasks(ended('succeeded', 'succeeded'))).toBe(ExitCode.Success);
    expect(exitCodeForTasks([])).toBe(ExitCode.Success);
    for (const bad of ['failed', 'cancelled', 'timed-out', 'interrupted'] as const) {
      expect(exitCodeForTasks(ended('succeeded', bad, 'succeeded')), bad).toBe(ExitCode.TaskFailed);
      expect(exitCodeForTasks(ended(bad)), bad).toBe(ExitCode.TaskFailed);
    }
  });

  it('are 2 for errors fixed on the command line, 3 for a plugin that is not operational, 1 otherwise', () => {
    for (const code of [
      'PLUGBOARD_INVALID_ARGUMENTS',
      'PLUGBOARD_UNKNOWN_PLUGIN',
      'PLUGBOARD_CONTEXT_REQUIRED',
      'PLUGBOARD_UNKNOWN_CONTEXT',
      'PLUGBOARD_UNKNOWN_TASK',
      'PLUGBOARD_UNKNOWN_SCHEDULE',
    ] as const) {
      expect(exitCodeForError(new PlugboardError(code, 'x')), code).toBe(ExitCode.Usage);
    }
    for (const code of ['PLUGBOARD_PLUGIN_NOT_OPERATIONAL', 'PLUGBOARD_PLUGIN_DISABLED'] as const) {
      expect(exitCodeForError(new PlugboardError(code, 'x')), code).toBe(ExitCode.NotOperational);
    }
    expect(exitCodeForError(new PlugboardError('PLUGBOARD_STORE_UNAVAILABLE', 'x'))).toBe(
      ExitCode.TaskFailed,
    );
    expect(exitCodeForError(new Error('plain'))).toBe(ExitCode.TaskFailed);
    expect(exitCodeForError(undefined)).toBe(ExitCode.TaskFailed);
  });

  it('read the code by shape, from any copy of core, and only a PLUGBOARD_ one', () => {
    expect(errorCodeOf({ code: 'PLUGBOARD_UNKNOWN_PLUGIN' })).toBe('PLUGBOARD_UNKNOWN_PLUGIN');
    expect(exitCodeForError({ code: 'PLUGBOARD_UNKNOWN_PLUGIN' })).toBe(ExitCode.Usage);
    expect(errorCodeOf({ code: 'ENOENT' })).toBeUndefined();
    expect(errorCodeOf({ code: 42 })).toBeUndefined();
    expect(errorCodeOf(null)).toBeUndefined();
    expect(errorCodeOf('PLUGBOARD_UNKNOWN_PLUGIN')).toBeUndefined();
  });
});
