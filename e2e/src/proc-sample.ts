// CPU and memory of processes and of the whole machine from /proc, for benchmarks that must say
// who burned the CPU during a run (the lab shares 2 cores with everything else on the machine).
import { readFileSync } from 'node:fs';

/** USER_HZ: /proc reports CPU times in these ticks (100 on every Linux the lab runs on). */
export const CLK_TCK = 100;

/** utime + stime of a process (all its threads) in seconds, undefined once it is gone. */
export function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; the name itself may contain spaces or ')'.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / CLK_TCK;
  } catch {
    return undefined;
  }
}

/** VmHWM (peak resident set) in MiB, undefined once the process is gone. */
export function peakRssMiB(pid: number): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** The machine's CPU time so far, in seconds summed over every CPU (the `cpu` line of /proc/stat). */
export interface MachineCpu {
  readonly busy: number;
  readonly idle: number;
  /** Time the hypervisor ran something else while this machine wanted a CPU. */
  readonly steal: number;
}

export function parseMachineCpu(procStat: string): MachineCpu {
  const line = procStat.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) throw new Error('/proc/stat: no aggregate "cpu " line');
  // user nice system idle iowait irq softirq steal guest guest_nice (guest is inside user)
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line
    .trim()
    .split(/\s+/)
    .slice(1, 9)
    .map((x) => Number(x) / CLK_TCK);
  if (steal === undefined || [user, nice, system, idle, iowait, irq, softirq, steal].some(Number.isNaN))
    throw new Error(`/proc/stat: cannot read the cpu line ${JSON.stringify(line)}`);
  return {
    busy: user! + nice! + system! + irq! + softirq!,
    idle: idle! + iowait!,
    steal,
  };
}

export function machineCpu(): MachineCpu {
  return parseMachineCpu(readFileSync('/proc/stat', 'utf8'));
}

export interface CpuWindow {
  /** Wall time of the window, seconds. */
  readonly wallS: number;
  /** CPU seconds per label (processes of one label summed). */
  readonly byLabel: ReadonlyMap<string, number>;
  /** CPU seconds the whole machine was busy, and stolen by the hypervisor, over the window. */
  readonly machineBusyS: number;
  readonly machineStealS: number;
}

/**
 * Measures CPU seconds of labelled processes over a window. Samples every `intervalMs`, so a
 * process that ends during the window (a restarted controller) keeps what it used up to its last
 * sample, and one added later counts from when it was added.
 */
export class CpuMeter {
  private readonly procs = new Map<number, { label: string; first: number; last: number }>();
  private readonly t0 = performance.now();
  private readonly m0 = machineCpu();
  private readonly timer: NodeJS.Timeout;

  constructor(intervalMs = 50) {
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  add(label: string, pid: number): void {
    const t = cpuSeconds(pid);
    if (t !== undefined && !this.procs.has(pid)) this.procs.set(pid, { label, first: t, last: t });
  }

  private sample(): void {
    for (const [pid, p] of this.procs) p.last = cpuSeconds(pid) ?? p.last;
  }

  stop(): CpuWindow {
    this.sample();
    clearInterval(this.timer);
    const m1 = machineCpu();
    const byLabel = new Map<string, number>();
    for (const p of this.procs.values()) byLabel.set(p.label, (byLabel.get(p.label) ?? 0) + p.last - p.first);
    return {
      wallS: (performance.now() - this.t0) / 1000,
      byLabel,
      machineBusyS: m1.busy - this.m0.busy,
      machineStealS: m1.steal - this.m0.steal,
    };
  }
}
