"""Paced ARP / Neighbor Solicitation sender for the responder benchmark (runs inside a namespace).

Every request carries its sequence number in the asker's MAC (02:ee:<seq, 4 bytes>): both the
kernel and our responder reply to that MAC, so a capture on the same link can pair each reply with
its request by sequence number and measure request-to-reply latency from kernel timestamps.

argv[1] is a JSON object:
  iface, template (hex frame), mac_offsets (byte offsets where the 6-byte asker MAC goes),
  checksum (null, or {offset, start, end}: ICMPv6 checksum at `offset`, covering frame[start:end]
  plus the pseudo-header, recomputed incrementally), pseudo_sum (sum of the pseudo-header words),
  first_seq, rate (frames/s, 0 = as fast as possible), seconds.
Prints one JSON line: {"sent": n, "seconds": elapsed}.
"""
import json
import socket
import struct
import sys
import time


def ones_sum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    return total


def fold(total: int) -> int:
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return total


def main() -> None:
    cfg = json.loads(sys.argv[1])
    template = bytearray(bytes.fromhex(cfg["template"]))
    offsets = cfg["mac_offsets"]
    csum = cfg.get("checksum")
    rate = float(cfg["rate"])
    seconds = float(cfg["seconds"])
    seq = int(cfg["first_seq"])

    # Everything of the checksummed part except the asker MAC words is constant: sum it once.
    base_sum = 0
    mac_in_sum = []
    if csum is not None:
        struct.pack_into("!H", template, csum["offset"], 0)
        mac_in_sum = [o for o in offsets if csum["start"] <= o < csum["end"]]
        body = bytearray(template[csum["start"]:csum["end"]])
        for o in mac_in_sum:
            body[o - csum["start"]:o - csum["start"] + 6] = b"\0" * 6
        base_sum = ones_sum(bytes(body)) + int(cfg["pseudo_sum"])

    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 * 1024 * 1024)
    sock.bind((cfg["iface"], 0))
    send = sock.send
    frame = template
    sent = 0
    start = time.perf_counter()
    end = start + seconds
    while True:
        now = time.perf_counter()
        if now >= end:
            break
        due = int((now - start) * rate) if rate > 0 else sent + 64
        if sent >= due:
            # Ahead of schedule: yield briefly (sleep granularity is tens of microseconds).
            time.sleep(0.0002)
            continue
        while sent < due:
            mac = b"\x02\xee" + struct.pack("!I", seq & 0xFFFFFFFF)
            for o in offsets:
                frame[o:o + 6] = mac
            if csum is not None:
                w = struct.unpack("!3H", mac)
                total = base_sum + (w[0] + w[1] + w[2]) * len(mac_in_sum)
                struct.pack_into("!H", frame, csum["offset"], (~fold(total)) & 0xFFFF)
            send(frame)
            seq += 1
            sent += 1
    print(json.dumps({"sent": sent, "seconds": time.perf_counter() - start, "last_seq": seq}))


main()
