import { createSocket } from 'node:dgram';
import { afterEach, describe, expect, it } from '@jest/globals';
import { Membership, type MembershipEvent } from '@metallb-ts/membership';
import { MembershipUdp, MembershipUdpError } from '../src/membership-udp.js';

const keys = { primary: Buffer.alloc(32, 3) };
// Two members on loopback addresses of their own, same port, as on two nodes.
const address: Record<string, string> = { 'node-a': '127.0.0.1', 'node-b': '127.0.0.2' };
const open: MembershipUdp[] = [];

async function poll(what: string, check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function start(name: string, port: number, events: MembershipEvent[] = []): Promise<Membership> {
  const membership = new Membership({
    name,
    keys,
    peers: Object.keys(address),
    incarnation: Math.floor(Date.now() / 1000),
    random: Math.random,
  });
  open.push(
    await MembershipUdp.open({
      membership,
      port,
      host: address[name]!,
      addressOf: (m) => address[m],
      onEvents: (e) => events.push(...e),
    }),
  );
  return membership;
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((u) => u.close({ leave: false })));
});

describe('MembershipUdp on loopback', () => {
  const port = 20_000 + Math.floor(Math.random() * 20_000);

  it('two members join over UDP, may announce, and see a graceful leave at once', async () => {
    const eventsA: MembershipEvent[] = [];
    const a = await start('node-a', port, eventsA);
    const b = await start('node-b', port);
    await poll(
      'both members to announce',
      () => a.mayAnnounce(performance.now()).ok && b.mayAnnounce(performance.now()).ok,
    );
    expect(a.aliveMembers()).toEqual(['node-a', 'node-b']);
    await poll(
      'probes answered both ways',
      () => a.metrics().probeRtt.count > 0 && b.metrics().probeRtt.count > 0,
    );
    expect(a.mayAnnounce(performance.now())).toEqual({ ok: true, basis: 'majority' });
    await open[1]!.close();
    await poll('node-a to see node-b leave', () =>
      eventsA.some((e) => e.kind === 'member-left' && e.member === 'node-b'),
    );
    expect(a.aliveMembers()).toEqual(['node-a']);
    // Alone of two after a leave: it no longer counts node-b, so it keeps announcing.
    expect(a.mayAnnounce(performance.now())).toEqual({ ok: true, basis: 'majority' });
  });

  it('drops and counts garbage and forged datagrams by reason', async () => {
    const a = await start('node-a', port + 1);
    const udp = open[0]!;
    const sender = createSocket('udp4');
    const send = (bytes: Buffer) =>
      new Promise<void>((resolve) => sender.send(bytes, udp.port, '127.0.0.1', () => resolve()));
    await send(Buffer.from('hello'));
    const forged = Buffer.alloc(80, 0);
    forged[0] = 1;
    await send(forged);
    await poll(
      'two rejections',
      () => (udp.counts().rejected.truncated ?? 0) + (udp.counts().rejected['bad-mac'] ?? 0) === 2,
    );
    expect(udp.counts().rejected).toEqual({ truncated: 1, 'bad-mac': 1 });
    expect(a.metrics().rejected).toMatchObject({ truncated: 1, 'bad-mac': 1 });
    sender.close();
  });

  it('counts a send that throws at once (a bad peer port) as a send error, not an unhandled rejection', async () => {
    const membership = new Membership({
      name: 'node-a',
      keys,
      peers: Object.keys(address),
      incarnation: 1,
      random: Math.random,
    });
    const udp = await MembershipUdp.open({
      membership,
      port: port + 3,
      host: address['node-a']!,
      peerPort: 70_000,
      addressOf: (m) => address[m],
    });
    open.push(udp);
    // Rounds go on after the first failures: later probes are counted too.
    await poll('send errors counted', () => udp.counts().sendErrors >= 2);
    const first = udp.counts().sendErrors;
    await poll('more rounds, more send errors', () => udp.counts().sendErrors > first);
  });

  it('names the port when it cannot bind', async () => {
    await start('node-a', port + 2);
    const other = new Membership({ name: 'node-a', keys, peers: [], incarnation: 1, random: Math.random });
    const failed = MembershipUdp.open({
      membership: other,
      port: port + 2,
      host: '127.0.0.1',
      addressOf: () => undefined,
    });
    await expect(failed).rejects.toThrow(MembershipUdpError);
    await expect(failed).rejects.toThrow(`127.0.0.1:${port + 2} cannot be bound`);
  });
});
