// `pnpm soak`: the seeded chaos soak against a lab of its own (control plane, network
// namespaces, controller and speakers). Environment:
//   SOAK_SEED=<uint32>       replay a run (printed at the start and in every failure)
//   SOAK_STEPS=<n>           number of operations (default 300)
//   SOAK_DURATION_S=<s>      stop starting new steps after this long
//   SOAK_STRICT_OUTAGE=0|1   an address withdrawn during a kube-apiserver/etcd restart is a violation (default 1: membership is gossip; 0 only reports it)
//   SOAK_WEIGHTS=etcd=0.3    change the weights of operation families (keys of OpWeights in ops.ts)
//   SOAK_SKIP=link,etcd      switch operation families off
//   SOAK_KEEP_GOING=1        collect every violating step instead of stopping at the first
// Exit code: 0 when no invariant was violated, 1 otherwise.
import { reportTable, soakInOwnLab, soakSettings } from './own-lab.js';

const log = (line: string) => process.stderr.write(`[soak] ${line}\n`);

async function main(): Promise<number> {
  const report = await soakInOwnLab(soakSettings());
  process.stdout.write(`${reportTable(report)}\n`);
  return report.failures.length === 0 ? 0 : 1;
}

process.exitCode = await main().catch((e: unknown) => {
  log(`failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  return 1;
});
