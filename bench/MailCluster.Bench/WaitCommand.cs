using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace MailCluster.Bench;

/// <summary>Waits until the server on --host:--port answers a 220 greeting (a node is up only when it greets).</summary>
internal static class WaitCommand
{
    public static async Task<string> RunAsync(Options options, CancellationToken ct)
    {
        var endPoint = new IPEndPoint(IPAddress.Parse(options.Text("host", "127.0.0.1")), options.Integer("port", 25));
        var deadline = Stopwatch.StartNew();
        var timeout = TimeSpan.FromSeconds(options.Number("timeout", 60));
        while (deadline.Elapsed < timeout)
        {
            try
            {
                using var attempt = CancellationTokenSource.CreateLinkedTokenSource(ct);
                attempt.CancelAfter(TimeSpan.FromSeconds(5));
                var wire = await SmtpWire.ConnectAsync(endPoint, attempt.Token).ConfigureAwait(false);
                await using (wire.ConfigureAwait(false))
                {
                    if (await wire.ReadReplyAsync(attempt.Token).ConfigureAwait(false) == 220)
                    {
                        await wire.CommandAsync("QUIT", attempt.Token).ConfigureAwait(false);
                        return FormattableString.Invariant($"ready=1 seconds={deadline.Elapsed.TotalSeconds:F2}");
                    }
                }
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException or IOException && !ct.IsCancellationRequested)
            {
                // Not listening yet.
            }

            await Task.Delay(200, ct).ConfigureAwait(false);
        }

        return $"error=no greeting from {endPoint} within {timeout.TotalSeconds} s";
    }
}
