#!/usr/bin/env python3
"""Authenticated submission load for bench/dkim.sh: COUNT messages of SIZE bytes from FROM, over CONCURRENCY
implicit-TLS connections (port 465 style) with AUTH, each connection reused for its share. Prints one line:
count=N seconds=S rate=R (messages accepted per second) errors=E."""
import argparse
import smtplib
import ssl
import threading
import time


def message(sender: str, index: int, size: int) -> bytes:
    head = (f"From: <{sender}>\r\nTo: <bench{index}@defer.test>\r\nSubject: dkim bench {index}\r\n"
            f"Message-ID: <{index}.{time.time_ns()}@bench.test>\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=us-ascii\r\n\r\n")
    line = "the quick brown fox jumps over the lazy dog 0123456789\r\n"
    body = (line * (max(0, size - len(head)) // len(line) + 1))[: max(0, size - len(head))]
    return (head + body).encode("ascii")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--from", dest="sender", required=True)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--size", type=int, default=4096)
    args = parser.parse_args()
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the node's self-signed certificate, on loopback
    shares = [args.count // args.concurrency + (1 if i < args.count % args.concurrency else 0) for i in range(args.concurrency)]
    errors = []
    lock = threading.Lock()

    def worker(share: int, offset: int) -> None:
        try:
            with smtplib.SMTP_SSL(args.host, args.port, context=context, timeout=60) as client:
                client.login(args.user, args.password)
                for i in range(share):
                    client.sendmail(args.sender, [f"bench{offset + i}@defer.test"], message(args.sender, offset + i, args.size))
        except (smtplib.SMTPException, OSError) as error:
            with lock:
                errors.append(repr(error))

    threads = []
    offset = 0
    start = time.perf_counter()
    for share in shares:
        thread = threading.Thread(target=worker, args=(share, offset))
        offset += share
        threads.append(thread)
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - start
    print(f"count={args.count} seconds={seconds:.3f} rate={args.count / seconds:.1f} errors={len(errors)}")
    for error in errors[:3]:
        print(error, file=__import__("sys").stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
