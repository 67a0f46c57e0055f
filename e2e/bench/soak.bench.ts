// The soak's long profile as a benchmark: `pnpm bench soak` runs SOAK_STEPS (default 10,000)
// operations, keeps going past violations and prints one table (seed, steps, duration,
// violating steps, outage withdrawals, settle times, chaos timings, operation counts).
// SOAK_DURATION_S bounds the wall time; SOAK_SEED replays. A kube-apiserver or etcd restart costs
// about 15 s (the restart, then 4 s watching the wire), so at the default weight of 1% each they
// would take half of a 10,000-step run; the long profile makes them 0.3% each (about 60 in all,
// SOAK_WEIGHTS overrides). `pnpm bench soak` runs it in a sandbox of its own (scripts/sandbox.sh),
// so it can run for hours beside the machine's lab.
import { reportTable, soakInOwnLab, soakSettings } from '../soak/own-lab.js';

const settings = soakSettings({
  SOAK_STEPS: '10000',
  SOAK_KEEP_GOING: '1',
  SOAK_WEIGHTS: 'apiserver=0.3,etcd=0.3',
  ...process.env,
});
const report = await soakInOwnLab(settings);
process.stdout.write(`${reportTable(report)}\n`);
for (const f of report.failures)
  process.stdout.write(
    `\nstep ${f.step}: ${f.op}\n${f.violations.map((v) => `  [${v.rule}] ${v.detail}`).join('\n')}\n`,
  );
process.exitCode = report.failures.length === 0 ? 0 : 1;
