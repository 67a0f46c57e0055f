"""Sends frames and captures what comes back, for one round of wire probes (runs in a namespace).

argv[1] is a JSON object: iface, listen_ms, frames (hex Ethernet frames to send, in order).
The capture socket is bound before the first frame leaves, so an answer that comes within
microseconds is not missed. Kept: frames the link delivers to us (not our own outgoing ones)
that are ARP, or ICMPv6 Neighbor Advertisements without IPv6 extension headers. Knows no
protocol beyond that filter: the caller builds the requests and reads the answers with our own
codec (packages/l2-proto).
Prints one JSON line: {"sent": n, "frames": [hex, ...]}.
"""
import json
import select
import socket
import sys
import time

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4


def wanted(frame: bytes) -> bool:
    if len(frame) < 14:
        return False
    ethertype = frame[12:14]
    if ethertype == b"\x08\x06":
        return True
    # IPv6 (next header 58, ICMPv6) carrying type 136, Neighbor Advertisement.
    return ethertype == b"\x86\xdd" and len(frame) > 54 and frame[20] == 58 and frame[54] == 136


def main() -> None:
    cfg = json.loads(sys.argv[1])
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
    sock.bind((cfg["iface"], ETH_P_ALL))
    sent = 0
    for frame in cfg["frames"]:
        sock.send(bytes.fromhex(frame))
        sent += 1
    end = time.monotonic() + cfg["listen_ms"] / 1000
    got = []
    while True:
        left = end - time.monotonic()
        if left <= 0:
            break
        ready, _, _ = select.select([sock], [], [], left)
        if not ready:
            continue
        frame, addr = sock.recvfrom(65535)
        if addr[2] != PACKET_OUTGOING and wanted(frame):
            got.append(frame.hex())
    print(json.dumps({"sent": sent, "frames": got}))


if __name__ == "__main__":
    main()
