import { Counter, Gauge, type Registry } from '@metallb-ts/k8s-runtime';

/** The speaker's MetalLB metrics, by the names dashboards already use. */
export class SpeakerMetrics {
  private readonly announcedGauge: Gauge;
  private readonly requests: Counter;
  private readonly responses: Counter;
  private readonly gratuitous: Counter;

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
  }

  announced(ip: string, services: string[], on: boolean): void {
    for (const service of services) {
      const labels = { service, protocol: 'layer2', node: this.node, ip };
      if (on) this.announcedGauge.set(labels, 1);
      else this.announcedGauge.remove(labels);
    }
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
