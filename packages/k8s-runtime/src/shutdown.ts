import type { Logger } from './logger.js';

export type ShutdownStep = (() => unknown) | { name: string; run: () => unknown };

export interface ShutdownOptions {
  /** Overall time for all steps; after it the process exits with code 1. Default 10 s. */
  deadlineMs?: number;
  signals?: NodeJS.Signals[];
  /** Replaces `process.exit` (tests). */
  exit?: (code: number) => void;
}

export interface ShutdownHandle {
  /** Runs the steps now (as if a signal arrived); resolves with the exit code used. */
  trigger(reason: string): Promise<number>;
  /** Removes the signal handlers. */
  dispose(): void;
}

/**
 * On SIGTERM/SIGINT run the cleanup steps in order (each awaited; a failing step is logged and
 * the next one still runs), then exit 0 — or 1 if a step failed or the deadline passed. A second
 * signal while shutting down exits at once.
 */
export function onShutdown(
  logger: Logger,
  steps: ShutdownStep[],
  opts: ShutdownOptions = {},
): ShutdownHandle {
  const deadlineMs = opts.deadlineMs ?? 10_000;
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  const signals = opts.signals ?? ['SIGTERM', 'SIGINT'];
  let running: Promise<number> | undefined;

  const runSteps = async (): Promise<number> => {
    let code = 0;
    for (const [i, step] of steps.entries()) {
      const name = typeof step === 'function' ? step.name || `step ${i + 1}` : step.name;
      const fn = typeof step === 'function' ? step : step.run;
      try {
        await fn();
        logger.debug('shutdown step done', { step: name });
      } catch (error) {
        code = 1;
        logger.error('shutdown step failed', { step: name, error });
      }
    }
    return code;
  };

  const trigger = (reason: string): Promise<number> => {
    if (running) return running;
    logger.info('shutting down', { reason, deadlineMs });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<number>((resolve) => {
      timer = setTimeout(() => {
        logger.error('shutdown deadline passed, exiting', { deadlineMs });
        resolve(1);
      }, deadlineMs);
      timer.unref?.();
    });
    running = Promise.race([runSteps(), deadline]).then((code) => {
      clearTimeout(timer);
      logger.info('shutdown complete', { exitCode: code });
      exit(code);
      return code;
    });
    return running;
  };

  const handler = (signal: NodeJS.Signals): void => {
    if (running) {
      logger.warn('second signal during shutdown, exiting now', { signal });
      exit(1);
      return;
    }
    void trigger(signal);
  };
  for (const s of signals) process.on(s, handler);
  return {
    trigger,
    dispose() {
      for (const s of signals) process.off(s, handler);
    },
  };
}
