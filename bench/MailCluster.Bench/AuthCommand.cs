using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Text;

namespace MailCluster.Bench;

/// <summary>
/// <c>auth --port P --mode plain|tls|auth --count N [--concurrency C] [--user U --password W] [--from F] [--to T]</c>:
/// SMTP acceptance with a new connection per message, so that the cost of each connection's setup is in the figure:
/// <c>plain</c> (no TLS, no AUTH: the MX port), <c>tls</c> (implicit TLS without AUTH: an MX-style listener over TLS is
/// not offered, so this arm opens the submissions port's TLS and sends QUIT right after EHLO — the TLS cost alone),
/// <c>auth</c> (implicit TLS, AUTH PLAIN, one message). Prints messages per second and latency percentiles.
/// </summary>
internal static class AuthCommand
{
    public static async Task<string> RunAsync(Options options, CancellationToken ct)
    {
        var endPoint = new IPEndPoint(IPAddress.Parse(options.Text("host", "127.0.0.1")), options.Integer("port", 2465));
        var mode = options.Text("mode", "auth");
        var count = options.Integer("count", 200);
        var concurrency = Math.Max(1, options.Integer("concurrency", 4));
        var user = options.Text("user", "bench");
        var password = options.Text("password", "bench");
        var from = options.Text("from", "bench@senders.test");
        var to = options.Text("to", "sink@relay.test");
        var plain = Convert.ToBase64String(Encoding.UTF8.GetBytes($"\0{user}\0{password}"));

        var latencies = new double[count];
        var failures = 0;
        var next = -1;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                var started = Stopwatch.GetTimestamp();
                var ok = await OneAsync(endPoint, mode, plain, from, to, ct).ConfigureAwait(false);
                latencies[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                if (!ok)
                {
                    Interlocked.Increment(ref failures);
                }
            }
        })).ConfigureAwait(false);
        var seconds = clock.Elapsed.TotalSeconds;
        var sorted = latencies.ToList();
        sorted.Sort();
        return string.Create(CultureInfo.InvariantCulture,
            $"mode={mode} messages={count} failures={failures} seconds={seconds:F2} msgs_per_sec={count / seconds:F1} p50_ms={Percentiles.Of(sorted, 50):F1} p99_ms={Percentiles.Of(sorted, 99):F1}");
    }

    private static async Task<bool> OneAsync(IPEndPoint endPoint, string mode, string plain, string from, string to, CancellationToken ct)
    {
        using var client = new System.Net.Sockets.TcpClient { NoDelay = true };
        await client.ConnectAsync(endPoint, ct).ConfigureAwait(false);
        Stream stream = client.GetStream();
        if (mode != "plain")
        {
#pragma warning disable CA5359 // The node under test has a self-signed certificate on loopback; identity is not the point here.
            var ssl = new SslStream(stream, leaveInnerStreamOpen: false, (_, _, _, _) => true);
#pragma warning restore CA5359
            await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "localhost" }, ct).ConfigureAwait(false);
            stream = ssl;
        }

        await using (stream.ConfigureAwait(false))
        {
            using var reader = new StreamReader(stream, Encoding.ASCII, leaveOpen: true);
            async Task<int> Command(string? line)
            {
                if (line is not null)
                {
                    await stream.WriteAsync(Encoding.ASCII.GetBytes(line + "\r\n"), ct).ConfigureAwait(false);
                }

                while (await reader.ReadLineAsync(ct).ConfigureAwait(false) is { } reply)
                {
                    if (reply.Length < 4 || reply[3] != '-')
                    {
                        return int.Parse(reply.AsSpan(0, 3), CultureInfo.InvariantCulture);
                    }
                }

                return 0;
            }

            if (await Command(null) != 220 || await Command("EHLO bench.example") != 250)
            {
                return false;
            }

            if (mode == "tls")
            {
                return await Command("QUIT") == 221;
            }

            if (mode == "auth" && await Command("AUTH PLAIN " + plain) != 235)
            {
                return false;
            }

            return await Command($"MAIL FROM:<{from}>") == 250
                && await Command($"RCPT TO:<{to}>") == 250
                && await Command("DATA") == 354
                && await Command($"Subject: bench\r\nFrom: <{from}>\r\n\r\nbody\r\n.") == 250
                && await Command("QUIT") == 221;
        }
    }
}
