import { describe, it, expect } from '@jest/globals';
import { onShutdown } from '../src/shutdown.js';
import { createLogger } from '../src/logger.js';

function setup() {
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger({ component: 't', level: 'debug', write: (l) => lines.push(JSON.parse(l)) });
  const exits: number[] = [];
  return { logger, lines, exits, exit: (c: number) => void exits.push(c) };
}

describe('onShutdown', () => {
  it('runs the steps in order, then exits 0', async () => {
    const { logger, exits, exit } = setup();
    const order: string[] = [];
    const h = onShutdown(
      logger,
      [
        async () => {
          await new Promise((r) => setTimeout(r, 5));
          order.push('release lease');
        },
        { name: 'close server', run: () => void order.push('close server') },
      ],
      { exit, signals: [] },
    );
    expect(await h.trigger('test')).toBe(0);
    expect(order).toEqual(['release lease', 'close server']);
    expect(exits).toEqual([0]);
    h.dispose();
  });

  it('keeps going after a failing step and exits 1', async () => {
    const { logger, lines, exits, exit } = setup();
    const order: string[] = [];
    const h = onShutdown(
      logger,
      [
        {
          name: 'flaky',
          run: () => {
            throw new Error('nope');
          },
        },
        () => void order.push('after'),
      ],
      { exit, signals: [] },
    );
    expect(await h.trigger('test')).toBe(1);
    expect(order).toEqual(['after']);
    expect(exits).toEqual([1]);
    expect(lines.some((l) => l['msg'] === 'shutdown step failed' && l['step'] === 'flaky')).toBe(true);
    h.dispose();
  });

  it('exits 1 when the deadline passes, and triggers only once', async () => {
    const { logger, exits, exit } = setup();
    const h = onShutdown(logger, [() => new Promise(() => undefined)], { exit, signals: [], deadlineMs: 20 });
    const first = h.trigger('test');
    const second = h.trigger('again');
    expect(await first).toBe(1);
    expect(await second).toBe(1);
    expect(exits).toEqual([1]);
    h.dispose();
  });

  it('reacts to a signal', async () => {
    const { logger, exits, exit } = setup();
    let ran = false;
    const h = onShutdown(logger, [() => void (ran = true)], { exit, signals: ['SIGUSR2'] });
    process.emit('SIGUSR2', 'SIGUSR2');
    await new Promise((r) => setTimeout(r, 10));
    expect(ran).toBe(true);
    expect(exits).toEqual([0]);
    h.dispose();
  });
});
