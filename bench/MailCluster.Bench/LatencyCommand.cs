using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;

namespace MailCluster.Bench;

/// <summary>
/// Open-loop load at a fixed offered rate: transaction i is due at i/rate seconds, whether or not earlier
/// ones finished, and its latency is counted from when it was due (so a stalled server cannot hide its
/// queueing delay: no coordinated omission). One transaction is a whole SMTP session: connect, greeting,
/// EHLO, MAIL, RCPT, DATA, the message, and the 250 after the final dot (QUIT follows, untimed).
/// </summary>
internal static class LatencyCommand
{
    public static async Task<string> RunAsync(Options options, CancellationToken ct)
    {
        var endPoint = new IPEndPoint(IPAddress.Parse(options.Text("host", "127.0.0.1")), options.Integer("port", 25));
        var rate = options.Number("rate", 100);
        var seconds = options.Number("seconds", 10);
        var to = options.Text("to", "user@defer.test");
        var message = Message(options.Integer("size", 1024), to);
        var total = (int)(rate * seconds);
        var latencies = new double[total];
        var failures = 0;
        var clock = Stopwatch.StartNew();
        var runs = new List<Task>(total);
        for (var i = 0; i < total; i++)
        {
            var due = TimeSpan.FromSeconds(i / rate);
            var wait = due - clock.Elapsed;
            if (wait > TimeSpan.FromMilliseconds(1))
            {
                await Task.Delay(wait, ct).ConfigureAwait(false);
            }

            var index = i;
            runs.Add(Task.Run(
                async () =>
                {
                    var ok = await SmtpTransaction.RunAsync(endPoint, to, message, ct).ConfigureAwait(false);
                    latencies[index] = ok ? (clock.Elapsed - due).TotalMilliseconds : double.NaN;
                    if (!ok)
                    {
                        Interlocked.Increment(ref failures);
                    }
                },
                ct));
        }

        await Task.WhenAll(runs).ConfigureAwait(false);
        var done = latencies.Where(l => !double.IsNaN(l)).Order().ToList();

        // A diagnostic beside the figure (which counts every transaction): p99 of the last three quarters, i.e.
        // without the start of a freshly started server (JIT, first shard and queue start-up).
        var late = latencies.Skip(total / 4).Where(l => !double.IsNaN(l)).Order().ToList();
        return string.Create(CultureInfo.InvariantCulture,
            $"offered_rate={rate:F1} sent={total} ok={done.Count} failed={failures} p50_ms={Percentiles.Of(done, 50):F2} p99_ms={Percentiles.Of(done, 99):F2} max_ms={Percentiles.Of(done, 100):F2} p99_late_ms={Percentiles.Of(late, 99):F2} seconds={clock.Elapsed.TotalSeconds:F2}{Quarters(latencies)}{Seconds(latencies, rate, options.Integer("slices", 0))}");
    }

    /// <summary>p50 and p99 of each quarter of the run, by when the transaction was due (bench/latency.sh): where in
    /// the run the tail comes from, e.g. " p50_q1_ms=.. p99_q1_ms=.. ... p99_q4_ms=..".</summary>
    private static string Quarters(double[] latencies)
    {
        var text = new StringBuilder();
        for (var q = 0; q < 4; q++)
        {
            var part = latencies.Skip(q * latencies.Length / 4).Take(((q + 1) * latencies.Length / 4) - (q * latencies.Length / 4))
                .Where(l => !double.IsNaN(l)).Order().ToList();
            text.Append(CultureInfo.InvariantCulture, $" p50_q{q + 1}_ms={Percentiles.Of(part, 50):F2} p99_q{q + 1}_ms={Percentiles.Of(part, 99):F2}");
        }

        return text.ToString();
    }

    /// <summary>p99 and the worst latency of each of the first <paramref name="count"/> seconds of the run, by when the
    /// transaction was due (<c>--slices N</c>): where in the first quarter the tail comes from, e.g.
    /// " s1_p99_ms=.. s1_max_ms=.. s2_p99_ms=..".</summary>
    private static string Seconds(double[] latencies, double rate, int count)
    {
        var text = new StringBuilder();
        for (var s = 0; s < count && s * rate < latencies.Length; s++)
        {
            var part = latencies.Skip((int)(s * rate)).Take((int)rate).Where(l => !double.IsNaN(l)).Order().ToList();
            text.Append(CultureInfo.InvariantCulture, $" s{s + 1}_p99_ms={Percentiles.Of(part, 99):F2} s{s + 1}_max_ms={Percentiles.Of(part, 100):F2}");
        }

        return text.ToString();
    }

    /// <summary>Headers plus <paramref name="size"/> octets of 76-character body lines, then the final dot.</summary>
    private static byte[] Message(int size, string to)
    {
        var text = new StringBuilder()
            .Append("From: <bench@client.test>\r\n")
            .Append(CultureInfo.InvariantCulture, $"To: <{to}>\r\n")
            .Append("Subject: latency probe\r\n\r\n");
        var line = new string('x', 76) + "\r\n";
        for (var written = 0; written < size; written += line.Length)
        {
            text.Append(line);
        }

        return Encoding.ASCII.GetBytes(text.Append(".\r\n").ToString());
    }
}
