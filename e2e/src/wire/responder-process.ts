/**
 * A minimal speaker data plane for the wire tests and the responder benchmark: the speaker's own
 * `openLink` + `respond` + `Announcer`, with the announced set given on the command line and
 * changed through stdin. Run inside a namespace:
 *
 *   ip netns exec wire-spk node --import tsx e2e/src/wire/responder-process.ts '<config JSON>'
 *
 * Config: { links: string[], announce?: {ip, link}[], burstMs?: number[], refreshMs?: number,
 *           logFrames?: boolean }
 * stdin, one JSON object per line: {"op":"announce"|"withdraw","ip":..,"link":..} | {"op":"stats"}
 * stdout, one JSON object per line: ready, frame (when logFrames), sent, command, stats, error.
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { Announcer, openLink, respond, type WireLink } from '@metallb-ts/speaker';

interface Config {
  links: string[];
  announce?: { ip: string; link: string }[];
  burstMs?: number[];
  refreshMs?: number;
  /** Log every received frame (hex) with the verdict; off for the benchmark. */
  logFrames?: boolean;
}

type Command = { op: 'announce' | 'withdraw'; ip: string; link: string } | { op: 'stats' };

const emit = (o: Record<string, unknown>): void => {
  process.stdout.write(`${JSON.stringify(o)}\n`);
};

function parseConfig(text: string | undefined): Config {
  if (text === undefined) throw new Error('usage: responder-process.ts <config JSON>');
  const c = JSON.parse(text) as Config;
  if (!Array.isArray(c.links) || c.links.length === 0)
    throw new Error('config.links must list at least one link');
  return c;
}

const config = parseConfig(process.argv[2]);
const logFrames = config.logFrames ?? true;
const counts = { frames: 0, replies: 0, notOurs: 0, ignored: 0, injectErrors: 0 };
const announced = new Set<string>();
const isAnnounced = (ip: string, link: string): boolean => announced.has(`${ip}|${link}`);

const announcer = new Announcer({
  burstMs: config.burstMs ?? [0, 300, 1000],
  refreshMs: config.refreshMs ?? 0,
  onSent: (ip, link, frames) => emit({ event: 'sent', ip, link, frames }),
  onError: (ip, link, error) => emit({ event: 'error', ip, link, error: error.message }),
});

interface OpenLink {
  name: string;
  mac: Buffer;
  wire: WireLink;
}
const links = new Map<string, OpenLink>();

for (const name of config.links) {
  const macText = readFileSync(`/sys/class/net/${name}/address`, 'utf8').trim();
  const mac = Buffer.from(macText.split(':').map((h) => parseInt(h, 16)));
  const link: OpenLink = { name, mac, wire: undefined as unknown as WireLink };
  link.wire = openLink(
    name,
    (frame) => {
      counts.frames++;
      const verdict = respond(frame, { name, mac }, isAnnounced);
      if (verdict.kind === 'reply') {
        try {
          link.wire.inject(verdict.frame);
          counts.replies++;
        } catch (e) {
          counts.injectErrors++;
          emit({ event: 'error', link: name, error: `inject: ${(e as Error).message}` });
        }
      } else if (verdict.kind === 'not-ours') counts.notOurs++;
      else counts.ignored++;
      if (logFrames) {
        emit({
          event: 'frame',
          link: name,
          frame: frame.toString('hex'),
          verdict: verdict.kind,
          ...(verdict.kind === 'ignore'
            ? { why: verdict.why }
            : { ip: verdict.ip, protocol: verdict.protocol }),
          ...(verdict.kind === 'reply' ? { reply: verdict.frame.toString('hex') } : {}),
        });
      }
    },
    (error) => emit({ event: 'error', link: name, error: error.message }),
  );
  links.set(name, link);
}

function apply(cmd: Command): void {
  if (cmd.op === 'stats') {
    const capture = Object.fromEntries([...links.values()].map((l) => [l.name, l.wire.stats()]));
    emit({ event: 'stats', ...counts, capture });
    return;
  }
  const link = links.get(cmd.link);
  if (!link) {
    emit({ event: 'error', error: `unknown link ${cmd.link}`, command: cmd });
    return;
  }
  if (cmd.op === 'announce') {
    announced.add(`${cmd.ip}|${cmd.link}`);
    announcer.start(cmd.ip, { name: link.name, mac: link.mac, inject: (f) => link.wire.inject(f) });
  } else {
    announced.delete(`${cmd.ip}|${cmd.link}`);
    announcer.stop(cmd.ip, cmd.link);
  }
  emit({ event: 'command', ...cmd, announced: [...announced] });
}

for (const a of config.announce ?? []) apply({ op: 'announce', ip: a.ip, link: a.link });

const commands = createInterface({ input: process.stdin });
// The parent closing our stdin (or dying) ends us: no responder outlives its test.
commands.on('close', () => shutdown());
commands.on('line', (line) => {
  if (line.trim() === '') return;
  try {
    apply(JSON.parse(line) as Command);
  } catch (e) {
    emit({ event: 'error', error: `bad command ${line}: ${(e as Error).message}` });
  }
});

function shutdown(): void {
  announcer.stopAll();
  for (const l of links.values()) l.wire.close();
  emit({ event: 'stopped', ...counts });
  process.exit(0);
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);

emit({
  event: 'ready',
  pid: process.pid,
  links: [...links.values()].map((l) => ({ name: l.name, mac: l.mac.toString('hex') })),
});
