// The lab has no kubelet: a component that exits on purpose (the controller steps down when it
// cannot renew its leader lease, then exits so a fresh start restores state) would stay down.
// This stands in for the kubelet's restartPolicy Always: a planned exit is restarted and
// counted; any other exit is a crash.
import { controllerName, speakerName } from '../src/components.js';
import type { Lab } from '../src/lab.js';
import { ownLogLines } from '../src/processes.js';

/** The log line of a deliberate exit that a kubelet would answer with a restart. */
export const PLANNED_EXIT = 'lost leadership; exiting so a fresh start restores state';

export interface Exited {
  readonly name: string;
  readonly planned: boolean;
  /** The log's tail, with the lab's line saying how the process ended (code or signal). */
  readonly log: string;
  /** The same tail without the lab's lines: what the process itself wrote. */
  readonly ownLog: string;
}

/** Components (controller, speakers) that are not running, and whether each exit was planned. */
export function exitedComponents(lab: Lab): Exited[] {
  const names = [controllerName, ...lab.nodes.map((n) => speakerName(n.name))];
  return names
    .filter((n) => !lab.running(n))
    .map((name) => {
      const log = lab.logs(name, 30);
      const ownLog = ownLogLines(log);
      const last = ownLog.trim().split('\n').slice(-3).join('\n');
      return { name, planned: last.includes(PLANNED_EXIT), log, ownLog };
    });
}
