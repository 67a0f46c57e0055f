import { Counter, Gauge, type Registry } from '@metallb-ts/k8s-runtime';
import type { VerdictState } from './membership-port.js';

/** The speaker's MetalLB metrics, by the names dashboards already use. */
export class SpeakerMetrics {
  private readonly announcedGauge: Gauge;
  private readonly requests: Counter;
  private readonly responses: Counter;
  private readonly gratuitous: Counter;
  private readonly fencedGauge: Gauge;

  constructor(
    registry: Registry,
    private readonly node: string,
  ) {
    this.announcedGauge = new Gauge({
      name: 'metallb_speaker_announced',
      help: 'Services being announced from this node (1) — desired state, not proof the network listens',
      labelNames: ['service', 'protocol', 'node', 'ip'],
      registers: [registry],
    });
    const perIp = (name: string, help: string) =>
      new Counter({ name, help, labelNames: ['ip'], registers: [registry] });
    this.requests = perIp(
      'metallb_layer2_requests_received',
      'Number of layer2 requests received for owned IPs',
    );
    this.responses = perIp('metallb_layer2_responses_sent', 'Number of layer2 responses sent');
    this.gratuitous = perIp('metallb_layer2_gratuitous_sent', 'Number of gratuitous layer2 packets sent');
    this.fencedGauge = new Gauge({
      name: 'metallb_ts_speaker_fenced',
      help: '1 while the membership verdict fences this speaker (it announces nothing; peers take over), else 0',
      labelNames: ['node'],
      registers: [registry],
    });
  }

  /** The membership verdict just computed: fenced is 1, alive and holding (starting up) are 0. */
  verdict(state: VerdictState): void {
    this.fencedGauge.set({ node: this.node }, state === 'fenced' ? 1 : 0);
  }

  /**
   * One IP's announcement went from serving `was` to serving `now` (either may be empty): the
   * series of services that left are removed, so a service that stops sharing the IP with another
   * does not linger as announced.
   */
  announced(ip: string, was: readonly string[], now: readonly string[]): void {
    const labels = (service: string) => ({ service, protocol: 'layer2', node: this.node, ip });
    const stays = new Set(now);
    for (const service of was) if (!stays.has(service)) this.announcedGauge.remove(labels(service));
    for (const service of now) this.announcedGauge.set(labels(service), 1);
  }
  requestReceived(ip: string): void {
    this.requests.inc({ ip });
  }
  responseSent(ip: string): void {
    this.responses.inc({ ip });
  }
  gratuitousSent(ip: string, frames: number): void {
    this.gratuitous.inc({ ip }, frames);
  }
}
