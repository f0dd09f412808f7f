using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;

namespace MailCluster.Bench;

/// <summary>
/// A long open-loop run for the soak (bench/soak.sh): transaction i is due at i/rate seconds and its latency counts
/// from then (no coordinated omission), as in <see cref="LatencyCommand"/>. Every <c>--defer-every</c>-th transaction
/// goes to a unique recipient at <c>--defer-domain</c> (whose server defers a first attempt), the rest to unique
/// recipients at <c>--domain</c>. At the end it prints one line per window of <c>--window</c> seconds (by due time:
/// sent, ok, failed, p50, p99, max) and returns the whole run's line. Memory is one double per transaction; finished
/// transactions are not kept.
/// </summary>
internal static class SoakCommand
{
    public static async Task<string> RunAsync(Options options, CancellationToken ct)
    {
        var endPoint = new IPEndPoint(IPAddress.Parse(options.Text("host", "127.0.0.1")), options.Integer("port", 25));
        var rate = options.Number("rate", 100);
        var seconds = options.Number("seconds", 60);
        var window = options.Number("window", 60);
        var deferEvery = options.Integer("defer-every", 10);
        var domain = options.Text("domain", "relay.test");
        var deferDomain = options.Text("defer-domain", "grey.test");
        var body = Body(options.Integer("size", 1024));
        var total = (int)(rate * seconds);
        var latencies = new double[total];
        var failures = 0;
        var outstanding = 1; // the issuing loop itself, released after the last transaction is started
        var drained = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < total && !ct.IsCancellationRequested; i++)
        {
            var due = TimeSpan.FromSeconds(i / rate);
            var wait = due - clock.Elapsed;
            if (wait > TimeSpan.FromMilliseconds(1))
            {
                await Task.Delay(wait, ct).ConfigureAwait(false);
            }

            var index = i;
            var to = string.Create(CultureInfo.InvariantCulture, $"s{i}@{(deferEvery > 0 && i % deferEvery == 0 ? deferDomain : domain)}");
            Interlocked.Increment(ref outstanding);
            _ = Task.Run(
                async () =>
                {
                    var ok = await SmtpTransaction.RunAsync(endPoint, to, body, ct).ConfigureAwait(false);
                    latencies[index] = ok ? (clock.Elapsed - due).TotalMilliseconds : double.NaN;
                    if (!ok)
                    {
                        Interlocked.Increment(ref failures);
                    }

                    if (Interlocked.Decrement(ref outstanding) == 0)
                    {
                        drained.TrySetResult();
                    }
                },
                ct);
        }

        if (Interlocked.Decrement(ref outstanding) == 0)
        {
            drained.TrySetResult();
        }

        await drained.Task.ConfigureAwait(false);
        var perWindow = (int)Math.Max(1, rate * window);
        for (var start = 0; start < total; start += perWindow)
        {
            var slice = latencies.AsSpan(start, Math.Min(perWindow, total - start)).ToArray();
            var ok = slice.Where(l => !double.IsNaN(l)).Order().ToList();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"window={start / perWindow + 1} start_s={start / rate:F0} sent={slice.Length} ok={ok.Count} failed={slice.Length - ok.Count} p50_ms={Percentiles.Of(ok, 50):F2} p99_ms={Percentiles.Of(ok, 99):F2} max_ms={Percentiles.Of(ok, 100):F2}"));
        }

        var all = latencies.Where(l => !double.IsNaN(l)).Order().ToList();
        return string.Create(CultureInfo.InvariantCulture,
            $"offered_rate={rate:F1} sent={total} ok={all.Count} failed={failures} p50_ms={Percentiles.Of(all, 50):F2} p99_ms={Percentiles.Of(all, 99):F2} max_ms={Percentiles.Of(all, 100):F2} seconds={clock.Elapsed.TotalSeconds:F2}");
    }

    /// <summary>Headers (no To: the envelope decides) plus <paramref name="size"/> octets of 76-character lines and the final dot.</summary>
    private static byte[] Body(int size)
    {
        var text = new StringBuilder().Append("From: <soak@client.test>\r\nSubject: soak\r\n\r\n");
        var line = new string('x', 76) + "\r\n";
        for (var written = 0; written < size; written += line.Length)
        {
            text.Append(line);
        }

        return Encoding.ASCII.GetBytes(text.Append(".\r\n").ToString());
    }
}
