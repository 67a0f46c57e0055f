"""Sends frames and captures what comes back, round after round (runs in a namespace).

`ask.py IFACE` first prints {"mac": "<IFACE's MAC>"}, then reads one JSON object
{"listen_ms": n, "frames": [hex Ethernet frames, in order]} per line on stdin and answers each
with one line {"sent": n, "frames": [hex, ...]}, until stdin ends. The socket is opened once, so
a round costs no process start; what arrived between rounds is discarded before the next
round's first frame leaves, and the socket is bound before that, so an answer that comes within
microseconds is not missed. Kept: frames the link delivers to us (not our own outgoing ones)
that are ARP, or ICMPv6 Neighbor Advertisements without IPv6 extension headers. Knows no
protocol beyond that filter: the caller builds the requests and reads the answers with our own
codec (packages/l2-proto).
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


def open_socket(iface: str) -> socket.socket:
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
    sock.bind((iface, ETH_P_ALL))
    return sock


def discard_pending(sock: socket.socket) -> None:
    while select.select([sock], [], [], 0)[0]:
        sock.recv(65535)


def one_round(sock: socket.socket, frames: list, listen_ms: float) -> dict:
    sent = 0
    for frame in frames:
        sock.send(bytes.fromhex(frame))
        sent += 1
    end = time.monotonic() + listen_ms / 1000
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
    return {"sent": sent, "frames": got}


def main() -> None:
    iface = sys.argv[1]
    sock = open_socket(iface)
    with open(f"/sys/class/net/{iface}/address") as f:
        print(json.dumps({"mac": f.read().strip()}), flush=True)
    for line in sys.stdin:
        cfg = json.loads(line)
        discard_pending(sock)
        print(json.dumps(one_round(sock, cfg["frames"], cfg["listen_ms"])), flush=True)


if __name__ == "__main__":
    main()
