// Each binary's Node flags go into its image's entry point: this Node must take them silently (a
// V8 warning on stderr is not a JSON log line, and an unknown flag stops the process).
import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { BINARIES, binary } from '../src/binaries.js';

describe.each(BINARIES.map((b) => [b.name, b] as const))('the Node flags of %s', (_name, b) => {
  it('start Node with nothing on stderr', () => {
    const r = spawnSync(process.execPath, [...b.nodeFlags, '-e', 'process.stdout.write("ok")'], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({
      status: 0,
      stdout: 'ok',
      stderr: '',
    });
  });
});

describe('the speaker', () => {
  // Interpreter-only V8 (--jitless, --lite-mode) saved ~5 MiB more at idle, but in
  // `pnpm bench responder` its Neighbor Solicitation throughput fell from 72k/s to 13k/s and 20k
  // requests/s were no longer all answered.
  it('keeps an optimizing compiler for the responder', () => {
    const flags = binary('speaker').nodeFlags;
    for (const f of ['--jitless', '--lite-mode', '--no-turbofan']) expect(flags).not.toContain(f);
  });
});
