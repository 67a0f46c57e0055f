import { describe, expect, it } from '@jest/globals';
import { CAPTURE_SNAP_LENGTH, captureOptions, RESPONDER_FILTER } from '../src/pcap-link.js';

// libpcap's immediate mode on Linux (TPACKET_V2) gives every frame a slot of the snap length
// plus a header of under 100 bytes; that is what bounds the backlog a busy responder can absorb.
const SLOT_OVERHEAD = 100;

describe('captureOptions', () => {
  const o = captureOptions();

  it('delivers each frame at once (immediate mode), with only ARP and NS passing the filter', () => {
    expect(o.buffer_timeout).toBe(0);
    expect(o.filter).toBe(RESPONDER_FILTER);
    expect(o.promiscuous).toBe(false);
  });

  it('keeps a whole frame behind two VLAN tags', () => {
    expect(o.snap_length).toBe(CAPTURE_SNAP_LENGTH);
    expect(o.snap_length).toBeGreaterThanOrEqual(1500 + 14 + 8);
  });

  it('has room for half a second of a busy LAN (1k requests/s) while JavaScript is busy (pcap defaults hold ~150)', () => {
    const slots = Math.floor(o.buffer_size / (o.snap_length + SLOT_OVERHEAD));
    expect(slots).toBeGreaterThanOrEqual(500);
    const pcapDefault = Math.floor((10 * 1024 * 1024) / (65535 + SLOT_OVERHEAD));
    expect(pcapDefault).toBeLessThan(200);
  });

  it('keeps the ring, which is resident memory per interface, under 1.5 MiB', () => {
    // Slots are packed two to a 4 KiB page: the ring maps ~1.25x buffer_size.
    const pages = Math.ceil(Math.floor(o.buffer_size / (o.snap_length + SLOT_OVERHEAD)) / 2);
    expect(pages * 4096).toBeLessThanOrEqual(1.5 * 1024 * 1024);
  });
});
