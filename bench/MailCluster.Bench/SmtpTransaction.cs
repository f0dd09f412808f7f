using System.Net;

namespace MailCluster.Bench;

/// <summary>One whole SMTP session over a new connection: greeting, EHLO, MAIL, RCPT, DATA, the message (already
/// dot-terminated) and the 250 after it, then QUIT (untimed by callers). False on any other reply, an I/O error or
/// 30 seconds without an answer.</summary>
internal static class SmtpTransaction
{
    public static async Task<bool> RunAsync(IPEndPoint endPoint, string to, byte[] message, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        try
        {
            var wire = await SmtpWire.ConnectAsync(endPoint, timeout.Token).ConfigureAwait(false);
            await using (wire.ConfigureAwait(false))
            {
                var ok = await wire.ReadReplyAsync(timeout.Token).ConfigureAwait(false) == 220
                    && await wire.CommandAsync("EHLO bench.client", timeout.Token).ConfigureAwait(false) == 250
                    && await wire.CommandAsync("MAIL FROM:<bench@client.test>", timeout.Token).ConfigureAwait(false) == 250
                    && await wire.CommandAsync($"RCPT TO:<{to}>", timeout.Token).ConfigureAwait(false) == 250
                    && await wire.CommandAsync("DATA", timeout.Token).ConfigureAwait(false) == 354;
                if (ok)
                {
                    await wire.SendAsync(message, timeout.Token).ConfigureAwait(false);
                    ok = await wire.ReadReplyAsync(timeout.Token).ConfigureAwait(false) == 250;
                }

                if (ok)
                {
                    _ = await wire.CommandAsync("QUIT", timeout.Token).ConfigureAwait(false);
                }

                return ok;
            }
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or OperationCanceledException or InvalidDataException)
        {
            return false;
        }
    }
}
