import { hex } from './hex.js';

/**
 * Golden packets written out field by field from the format in src/codec.ts. The HMACs were
 * computed separately with `openssl dgst -sha256 -mac HMAC -macopt hexkey:<KEY>` over the bytes
 * before the tag, not by this package.
 */
export const KEY = hex('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f');
export const OTHER_KEY = Buffer.alloc(32, 0xff);

export const PING = hex(`
  01          # version 1
  01          # type 1: ping
  00000007    # sender incarnation 7
  00000001    # sequence 1
  06 6e6f64652d61   # sender "node-a"
  06 6e6f64652d62   # target "node-b"
  00          # no piggybacked updates
  61c746f93510f15869df8645a831879c7176d80e8e969118247775a82c2072c1  # HMAC-SHA-256 under KEY
`);

/** The same ping signed with OTHER_KEY (a member still on the old key during rotation). */
export const PING_OTHER_KEY = Buffer.concat([
  PING.subarray(0, PING.length - 32),
  hex('ca42a997455107857e154a701ce3a2b51b67e8e6f55523c0ad6cf39c49819062'),
]);

export const DEAD_WITH_UPDATE = hex(`
  01 07       # version 1, type 7: dead
  01020304    # sender incarnation 16909060
  fffffffe    # sequence 4294967294
  06 6e6f64652d62   # sender "node-b"
  06 6e6f64652d63   # member "node-c"
  00000005    # its incarnation 5
  01          # reason 1: confirmed
  01          # one piggybacked update:
  02 00000009 06 6e6f64652d64   #   suspect, incarnation 9, "node-d"
  ce3306d8d2431280c471d9548ccbf76686e83ff71c312659c8cf92e14b492f9d
`);

export const SYNC = hex(`
  01 0a       # version 1, type 10: sync
  00000001 00000002 06 6e6f64652d61   # incarnation 1, sequence 2, sender "node-a"
  0002        # two entries:
  01 00000001 06 6e6f64652d61   #   alive, 1, "node-a"
  03 00000004 06 6e6f64652d63   #   dead, 4, "node-c"
  00          # no piggybacked updates
  3c2924900f0e52fc4400425714a06729e153c4d51c59d09bb6c4fc2feb24e28b
`);
