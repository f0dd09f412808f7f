using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace MailCluster.Bench;

/// <summary>
/// Opens --count connections (at most --concurrency connecting at once), times each one's greeting
/// (connect start to the 220 line), holds them all open, and measures the server's memory: the summed PSS
/// of every process in --cgroup before the first connection and after all are open and settled. A server
/// that stops greeting (Postfix at its process limit) leaves connections waiting in the listen queue; they
/// count as "not greeted" after --greeting-timeout, and opening stops after --max-failures of them.
/// </summary>
internal static class IdleCommand
{
    public static async Task<string> RunAsync(Options options, CancellationToken ct)
    {
        var endPoint = new IPEndPoint(IPAddress.Parse(options.Text("host", "127.0.0.1")), options.Integer("port", 25));
        var count = options.Integer("count", 10_000);
        var concurrency = options.Integer("concurrency", 200);
        var greetingTimeout = TimeSpan.FromSeconds(options.Number("greeting-timeout", 5));
        var maxFailures = options.Integer("max-failures", 300);
        var cgroup = options.Text("cgroup", "");
        var before = Memory.PssKb(cgroup);

        var open = new ConcurrentBag<SmtpWire>();
        var greetings = new ConcurrentBag<double>();
        var failures = 0;
        var clock = Stopwatch.StartNew();
        using var gate = new SemaphoreSlim(concurrency);
        var attempts = new List<Task>(count);
        for (var i = 0; i < count && Volatile.Read(ref failures) < maxFailures; i++)
        {
            await gate.WaitAsync(ct).ConfigureAwait(false);
            attempts.Add(Task.Run(
                async () =>
                {
                    try
                    {
                        var (wire, ms) = await GreetAsync(endPoint, greetingTimeout, ct).ConfigureAwait(false);
                        if (wire is null)
                        {
                            Interlocked.Increment(ref failures);
                        }
                        else
                        {
                            open.Add(wire);
                            greetings.Add(ms);
                        }
                    }
                    finally
                    {
                        gate.Release();
                    }
                },
                ct));
        }

        await Task.WhenAll(attempts).ConfigureAwait(false);
        var openSeconds = clock.Elapsed.TotalSeconds;
        await Task.Delay(TimeSpan.FromSeconds(options.Number("hold", 5)), ct).ConfigureAwait(false);
        var after = Memory.PssKb(cgroup);
        var held = open.Count;
        foreach (var wire in open)
        {
            await wire.DisposeAsync().ConfigureAwait(false);
        }

        var sorted = greetings.Order().ToList();
        var perConnection = held == 0 ? double.NaN : (after - before) * 1024.0 / held;
        return string.Create(CultureInfo.InvariantCulture,
            $"attempted={attempts.Count} greeted={held} not_greeted={failures} open_seconds={openSeconds:F2} greet_p50_ms={Percentiles.Of(sorted, 50):F2} greet_p99_ms={Percentiles.Of(sorted, 99):F2} pss_before_kb={before} pss_after_kb={after} bytes_per_conn={perConnection:F0}");
    }

    private static async Task<(SmtpWire? Wire, double Ms)> GreetAsync(IPEndPoint endPoint, TimeSpan timeout, CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(timeout);
        SmtpWire? wire = null;
        try
        {
            wire = await SmtpWire.ConnectAsync(endPoint, limit.Token).ConfigureAwait(false);
            if (await wire.ReadReplyAsync(limit.Token).ConfigureAwait(false) == 220)
            {
                var result = (wire, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                wire = null;
                return result;
            }
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or IOException && !ct.IsCancellationRequested)
        {
            // Refused, reset or no greeting in time: counted by the caller.
        }
        finally
        {
            if (wire is not null)
            {
                await wire.DisposeAsync().ConfigureAwait(false);
            }
        }

        return (null, 0);
    }
}

/// <summary>Proportional set size (shared pages split among sharers) of a cgroup's processes, in KiB.</summary>
internal static class Memory
{
    public static long PssKb(string cgroup)
    {
        if (string.IsNullOrEmpty(cgroup))
        {
            return 0;
        }

        long total = 0;
        foreach (var pid in File.ReadAllLines(Path.Combine(cgroup, "cgroup.procs")))
        {
            try
            {
                foreach (var line in File.ReadLines($"/proc/{pid}/smaps_rollup"))
                {
                    if (line.StartsWith("Pss:", StringComparison.Ordinal))
                    {
                        total += long.Parse(line.AsSpan(4).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture);
                    }
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // The process exited between the listing and the read.
            }
        }

        return total;
    }
}
