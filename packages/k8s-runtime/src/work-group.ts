// Several works run as one: what a binary hands the runtime when its leader does more than one
// thing (the operator: the MetalLB reconciler and the webhook certificates).
import type { ComponentWork } from './component.js';

/**
 * Starts every work together (rejects with the first failure), stops them in reverse order (each
 * stop runs even when an earlier one failed; the first failure is rethrown afterwards), and is
 * ready when all are.
 */
export function workGroup(works: readonly ComponentWork[]): ComponentWork {
  return {
    async start(signal) {
      await Promise.all(works.map((w) => w.start(signal)));
    },
    async stop() {
      let failure: unknown;
      for (const w of [...works].reverse()) {
        try {
          await w.stop();
        } catch (e) {
          failure ??= e;
        }
      }
      if (failure !== undefined) throw failure;
    },
    get ready() {
      return works.every((w) => w.ready);
    },
  };
}
