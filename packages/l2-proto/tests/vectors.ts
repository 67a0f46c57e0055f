import { hex } from './hex.js';

/**
 * Golden frames written out field by field from RFC 8200 (IPv6), RFC 4443 (ICMPv6), RFC 4861
 * (NDP) and RFC 3810 (MLDv2). The checksums were computed separately (by a throwaway script over
 * the pseudo-header), not by this package.
 *
 * Cast: us = 02:00:00:00:00:01 announcing VIP 2001:db8:1::10;
 *       asker = 02:00:00:00:00:50 at 2001:db8:1::50.
 */
export const US_MAC = Buffer.from('020000000001', 'hex');
export const ASKER_MAC = Buffer.from('020000000050', 'hex');
export const VIP6 = Buffer.from('20010db8000100000000000000000010', 'hex');
export const ASKER6 = Buffer.from('20010db8000100000000000000000050', 'hex');

export const NS_FOR_VIP = hex(`
  3333ff000010  # Ethernet destination: solicited-node MAC of ...::10
  020000000050  # Ethernet source: asker
  86dd          # EtherType: IPv6
  60000000      # version 6, traffic class 0, flow label 0
  0020          # payload length 32
  3a            # next header: ICMPv6
  ff            # hop limit 255
  20010db8000100000000000000000050  # source: asker
  ff0200000000000000000001ff000010  # destination: ff02::1:ff00:10
  87            # type 135 Neighbor Solicitation
  00            # code
  1b6b          # checksum
  00000000      # reserved
  20010db8000100000000000000000010  # target: the VIP
  01 01 020000000050                # option: source link-layer address, 1 x 8 bytes
`);

export const NA_TO_ASKER = hex(`
  020000000050  # Ethernet destination: asker (unicast)
  020000000001  # Ethernet source: us
  86dd
  60000000 0020 3a ff
  20010db8000100000000000000000010  # source: the VIP
  20010db8000100000000000000000050  # destination: asker
  88            # type 136 Neighbor Advertisement
  00
  8a04          # checksum
  60000000      # R=0 S=1 O=1, reserved
  20010db8000100000000000000000010  # target: the VIP
  02 01 020000000001                # option: target link-layer address = us
`);

export const UNSOLICITED_NA = hex(`
  333300000001  # Ethernet destination: all-nodes MAC
  020000000001
  86dd
  60000000 0020 3a ff
  20010db8000100000000000000000010  # source: the VIP
  ff020000000000000000000000000001  # destination: ff02::1
  88 00
  f90a          # checksum
  20000000      # R=0 S=0 O=1
  20010db8000100000000000000000010
  02 01 020000000001
`);

export const MLDV2_JOIN = hex(`
  333300000016  # Ethernet destination: MAC of ff02::16
  020000000001
  86dd
  60000000
  0024          # payload length 36 = 8 (Hop-by-Hop) + 28 (ICMPv6)
  00            # next header: Hop-by-Hop options
  01            # hop limit 1
  fe800000000000000000000000000001  # source: fe80::1
  ff020000000000000000000000000016  # destination: ff02::16 (all MLDv2-capable routers)
  3a            # Hop-by-Hop next header: ICMPv6
  00            # Hop-by-Hop length: 0 -> 8 bytes
  05 02 0000    # Router Alert, length 2, value 0 (MLD)
  01 00         # PadN, length 0
  8f            # type 143 MLDv2 Listener Report
  00
  70f8          # checksum
  0000          # reserved
  0001          # one record
  04            # CHANGE_TO_EXCLUDE_MODE (join)
  00            # aux data length
  0000          # no sources
  ff0200000000000000000001ff000010  # group: solicited-node of the VIP
`);

/** Duplicate Address Detection probe: from ::, no source link-layer option. */
export const DAD_NS = hex(`
  3333ff000010 020000000050 86dd
  60000000 0018 3a ff
  00000000000000000000000000000000  # source: unspecified
  ff0200000000000000000001ff000010
  87 00
  4cce          # checksum
  00000000
  20010db8000100000000000000000010
`);
