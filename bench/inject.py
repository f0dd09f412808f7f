#!/usr/bin/env python3
"""Load for the HTTP injection API (bench/inject.sh): prints one line per mode, "mode messages seconds msg/s".

  inject.py URL SECRET bulk N          one request, N templated recipients
  inject.py URL SECRET single N C      N requests of one templated recipient over C keep-alive connections
Recipients are rN@defer.test; the sender is app@client.test (the key's sender domain).
"""
import http.client
import json
import sys
import threading
import time
from urllib.parse import urlparse


def request_body(first, count):
    return json.dumps({
        "envelope_sender": "app@client.test",
        "substitutions": {"shop": "Bench Shop"},
        "content": {
            "subject": "Order {{order}} for {{name}}",
            "text_body": "Dear {{name}}, your order {{order}} from {{shop}} is on its way.\n" + "x" * 900 + "\n",
            "from": {"email": "app@client.test", "name": "Bench"},
        },
        "recipients": [{"email": f"r{i}@defer.test", "name": f"R {i}", "substitutions": {"order": str(i)}}
                       for i in range(first, first + count)],
    })


def post(conn, secret, body):
    conn.request("POST", "/api/inject/v1", body, {"Authorization": "Bearer " + secret, "Content-Type": "application/json"})
    response = conn.getresponse()
    text = response.read()
    if response.status != 200:
        raise SystemExit(f"HTTP {response.status}: {text[:300]!r}")
    return json.loads(text)


def main():
    url, secret, mode = sys.argv[1], sys.argv[2], sys.argv[3]
    target = urlparse(url)
    n = int(sys.argv[4])
    if mode == "bulk":
        conn = http.client.HTTPConnection(target.hostname, target.port, timeout=600)
        body = request_body(0, n)
        started = time.monotonic()
        answer = post(conn, secret, body)
        elapsed = time.monotonic() - started
        assert answer["success_count"] == n, answer
    elif mode == "single":
        connections = int(sys.argv[5])
        counter = iter(range(n))
        lock = threading.Lock()
        failures = []

        def worker():
            conn = http.client.HTTPConnection(target.hostname, target.port, timeout=120)
            while True:
                with lock:
                    i = next(counter, None)
                if i is None:
                    return
                try:
                    post(conn, secret, request_body(i, 1))
                except BaseException as e:  # noqa: BLE001 - reported below, the run is invalid
                    failures.append(repr(e))
                    return

        threads = [threading.Thread(target=worker) for _ in range(connections)]
        started = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - started
        if failures:
            raise SystemExit("failed: " + failures[0])
    else:
        raise SystemExit(__doc__)
    print(f"{mode} {n} {elapsed:.2f} {n / elapsed:.0f}")


if __name__ == "__main__":
    main()
