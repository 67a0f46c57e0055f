// Failover outage in the lab, measured end to end from the client's point of view.
// A prober in the client namespace GETs the VIP every 20 ms on fresh connections; the announcing
// node is then hit in one of these ways, REPS times each:
//   SIGKILL          the speaker dies; the node itself (kernel, service proxy, backend) lives on
//   SIGKILL+link     the speaker dies and the node's data link goes down
//   node death       the speaker dies and both links (data and management/gossip) go down
//   node death + API SIGSTOP
//                    the same node death while kube-apiserver is frozen (SIGSTOP from 1 s before
//                    the hit until the successor serves): failover must not need the API server
//   SIGSTOP 10s      the speaker freezes for 10 s, then SIGCONT: it must learn it lost the
//                    address and never answer in conflict (counted: ARP requests with 2 MACs)
//   SIGTERM          planned handover: the speaker leaves cleanly
// outage   = the longest gap between two successful requests from just before the hit until the
//            successor serves (the prober's interval, 20 ms, is the floor);
// takeover = hit -> the client's neighbour entry for the VIP carries the successor's MAC (moved
//            by the successor's gratuitous ARP; the client never asks).
// Usage: pnpm bench failover   [REPS=20] [SCENARIOS=SIGKILL,node death,...]
import { withBenchLab } from '../src/bench-lab.js';
import { electNode } from '@metallb-ts/speaker';
import { applyDemo, DEMO_NAMESPACE, waitForIngress } from '../src/cluster-objects.js';
import {
  arpWindow,
  freezeApiServer,
  killNode,
  p99,
  reviveLinks,
  settledOn as settled,
  sleepUntil,
  startProber,
  stats,
  twoMacRequests,
  type Prober,
} from '../src/failover-probe.js';

const REPS = Number(process.env.REPS ?? 20);
const INTERVAL_MS = 20;
const NODES = ['node-1', 'node-2', 'node-3'];
const ALL_SCENARIOS = [
  'SIGKILL',
  'SIGKILL+link',
  'node death',
  'node death + API SIGSTOP',
  'SIGSTOP 10s',
  'SIGTERM',
] as const;
/** How long the API server is frozen before the node dies in 'node death + API SIGSTOP'. */
const API_FROZEN_BEFORE_MS = 1000;
type Scenario = (typeof ALL_SCENARIOS)[number];
const SCENARIOS: Scenario[] = process.env.SCENARIOS
  ? (process.env.SCENARIOS.split(',').filter((x) =>
      (ALL_SCENARIOS as readonly string[]).includes(x),
    ) as Scenario[])
  : [...ALL_SCENARIOS];
const log = (line: string) => process.stderr.write(`[failover] ${line}\n`);

async function main(): Promise<void> {
  await withBenchLab(log, async ({ cp, lab }) => {
    await applyDemo(cp);
    const [vip] = await waitForIngress(cp, DEMO_NAMESPACE, 'demo', 30_000);
    const owner = electNode(NODES, vip!)!;
    const successor = electNode(
      NODES.filter((n) => n !== owner),
      vip!,
    )!;
    const ownerMac = lab.nodeMacs.get(owner)!;
    const successorMac = lab.nodeMacs.get(successor)!;
    log(`VIP ${vip}: owner ${owner} (${ownerMac}), successor ${successor} (${successorMac})`);
    const l = lab;

    const settledOn = (mac: string, node: string) => settled(l, vip!, mac, node);

    /**
     * Hits the owner as `scenario` says and waits until the successor serves the prober: when the
     * hit was, and when the client's neighbour entry moved to the successor.
     */
    const hitAndMeasure = async (
      scenario: Scenario,
      prober: Prober,
    ): Promise<{ hit: number; moved: number }> => {
      const hit = Date.now();
      if (scenario === 'SIGTERM') await l.killSpeaker(owner, 'SIGTERM');
      else if (scenario === 'SIGSTOP 10s') await l.killSpeaker(owner, 'SIGSTOP');
      else if (scenario === 'node death' || scenario === 'node death + API SIGSTOP') await killNode(l, owner);
      else {
        await l.killSpeaker(owner, 'SIGKILL');
        if (scenario === 'SIGKILL+link') await l.setDataLink(owner, false);
      }
      const moved = await l.waitFor(
        'the neighbour entry to move to the successor',
        async () => {
          const n = await l.clientNeighbour(vip!);
          return n.mac === successorMac ? { done: true, value: Date.now() } : { done: false, observed: n };
        },
        { timeoutMs: 30_000, intervalMs: 10 },
      );
      await l.waitFor(
        'a success served by the successor',
        () =>
          prober.successes.some((s) => s.t > hit && s.node === successor)
            ? { done: true, value: true }
            : { done: false, observed: prober.successes.slice(-3) },
        { timeoutMs: 30_000, intervalMs: 20 },
      );
      return { hit, moved };
    };

    const rows: Record<string, string | number>[] = [];
    for (const scenario of SCENARIOS) {
      const outages: number[] = [];
      const takeovers: number[] = [];
      const conflicts: number[] = [];
      for (let rep = 1; rep <= REPS; rep++) {
        await settledOn(ownerMac, owner);
        const prober = await startProber(vip!, INTERVAL_MS);
        await l.waitFor(
          'the prober to see steady successes',
          () =>
            prober.successes.length >= 10
              ? { done: true, value: true }
              : { done: false, observed: prober.successes.length },
          { timeoutMs: 10_000 },
        );
        let measured: { hit: number; moved: number };
        if (scenario === 'node death + API SIGSTOP') {
          const thaw = freezeApiServer(cp);
          try {
            await sleepUntil(Date.now() + API_FROZEN_BEFORE_MS);
            measured = await hitAndMeasure(scenario, prober);
          } finally {
            thaw();
          }
        } else measured = await hitAndMeasure(scenario, prober);
        const { hit, moved } = measured;
        await prober.stop();
        const window = prober.successes.filter((s) => s.t >= hit - 200);
        const firstBySuccessor = window.findIndex((s) => s.t > hit && s.node === successor);
        let outage = 0;
        for (let i = 1; i <= firstBySuccessor; i++)
          outage = Math.max(outage, window[i]!.t - window[i - 1]!.t);
        outages.push(outage);
        takeovers.push(moved - hit);
        log(`${scenario} #${rep}: outage ${outage} ms, takeover ${moved - hit} ms`);
        if (scenario === 'node death' || scenario === 'node death + API SIGSTOP') await reviveLinks(l, owner);
        if (scenario === 'SIGKILL+link') await l.setDataLink(owner, true);
        if (scenario === 'SIGSTOP 10s') {
          // Thawed after 10 s from the hit: from then on, count ARP requests two MACs answer.
          await sleepUntil(hit + 10_000);
          const watching = arpWindow(l, vip!, 4);
          await l.killSpeaker(owner, 'SIGCONT');
          const c = twoMacRequests(await watching);
          conflicts.push(c);
          log(`SIGSTOP 10s #${rep}: ${c} ARP request(s) answered by two MACs after SIGCONT`);
        } else {
          const restarted = await l.restartSpeaker(owner);
          if (!restarted.ok) throw new Error(`restarting the speaker of ${owner}: ${restarted.error}`);
        }
      }
      const o = stats(outages);
      const t = stats(takeovers);
      rows.push({
        scenario,
        reps: REPS,
        'outage min ms': o.min,
        'outage median ms': o.median,
        'outage max ms': o.max,
        'takeover min ms': t.min,
        'takeover median ms': t.median,
        'takeover max ms': t.max,
        'outage p99 ms': p99(outages),
        'two-MAC requests': scenario === 'SIGSTOP 10s' ? conflicts.reduce((a, b) => a + b, 0) : '-',
      });
    }
    console.log(
      `\nFailover in the lab (VIP ${vip}, prober every ${INTERVAL_MS} ms, gossip membership, default timings)`,
    );
    console.table(rows);
  });
}

await main();
