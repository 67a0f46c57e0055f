declare module 'pcap' {
  import type { EventEmitter } from 'node:events';
  interface PcapSession extends EventEmitter {
    inject(frame: Buffer): void;
    close(): void;
    stats(): { ps_recv: number; ps_drop: number; ps_ifdrop: number };
  }
  interface SessionOptions {
    filter?: string;
    buffer_timeout?: number;
    promiscuous?: boolean;
    buffer_size?: number;
    snap_length?: number;
  }
  const pcap: { createSession(device: string, options?: SessionOptions): PcapSession };
  export default pcap;
}
