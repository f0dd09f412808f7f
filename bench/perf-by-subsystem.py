#!/usr/bin/env python3
"""CPU per message by subsystem, from `perf script` output of the node (perf record -g with DOTNET_PerfMapEnabled=1).

    perf script -i perf.data | bench/perf-by-subsystem.py MESSAGES HZ

Each sample goes to the first subsystem (in the order below) that has a frame anywhere on its stack, so a sample in
SQLite's fsync called by the journal counts for the journal. Samples with no recognisable frame are grouped by thread
name ("thread:"), which is where the kernel's own work on behalf of a thread lands when its stack does not unwind into
managed code (futex waits, sched_yield, the block layer). Prints milliseconds of CPU per message, and the kernel's share.
"""
import collections
import re
import sys

SUBSYSTEMS = [
    ("gc", r"GCHeap|gc_heap|WKS::|SVR::|GarbageCollect"),
    # A node on PostgreSQL: the driver's own work for every caller (spool, journal, events), so that the rows below
    # count what linq2db/Akka.Persistence.Sql and the spool add on top of it.
    ("Npgsql (every caller)", r"\[Npgsql\]|Npgsql\."),
    ("events and projections (journal follower)", r"MailCluster\.Events"),
    ("spool: group commit + SQLite writer", r"MailCluster\.Queue\.Spool"),
    ("journal: Akka.Persistence.Sql + linq2db", r"\[linq2db\]|Akka\.Persistence\.Sql"),
    ("journal: Akka.Persistence", r"Akka\.Persistence"),
    ("domain queue actor", r"DomainQueue|MailCluster\.Queue\.State"),
    ("acceptance (session actor, acceptor)", r"MessageAcceptor|SmtpSessionActor|OnDataAsync"),
    ("sharding, Akka.Streams", r"Akka\.Cluster\.Sharding|Akka\.Streams"),
    ("SMTP connection and session", r"MailCluster\.Edge|MailCluster\.Smtp"),
    ("Kestrel, sockets", r"Kestrel|System\.Net\.Sockets|SocketAsyncEngine"),
    ("Akka mailboxes (other)", r"\[Akka\]"),
    ("SQLite (other callers)", r"libe_sqlite3"),
    ("thread pool dispatch", r"ThreadPoolWorkQueue|LowLevelLifoSemaphore|PortableThreadPool"),
]


def main() -> None:
    messages, hz = int(sys.argv[1]), float(sys.argv[2])
    rules = [(name, re.compile(pattern)) for name, pattern in SUBSYSTEMS]
    total, kernel = collections.Counter(), collections.Counter()
    for block in sys.stdin.read().split("\n\n"):
        lines = block.strip().split("\n")
        if len(lines) < 2:
            continue
        stack = "\n".join(lines[1:])
        name = next((n for n, r in rules if r.search(stack)), None)
        if name is None:
            thread = re.sub(r"\s+\d+\s+[\d.]+:.*", "", lines[0]).strip()
            name = "thread: " + re.sub(r"\d+", "#", thread)
        total[name] += 1
        if "[kernel.kallsyms]" in lines[1]:
            kernel[name] += 1
    per_message = 1000.0 / (messages * hz)
    print(f"{'CPU-ms/msg':>10} {'kernel':>8}  subsystem")
    for name, samples in total.most_common():
        print(f"{samples * per_message:10.4f} {kernel[name] * per_message:8.4f}  {name}")
    print(f"{sum(total.values()) * per_message:10.4f} {sum(kernel.values()) * per_message:8.4f}  total")


if __name__ == "__main__":
    main()
