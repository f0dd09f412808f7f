using System.Net;
using System.Net.Sockets;
using System.Text;
using MailCluster.Queue.Delivery;
using MailCluster.Testing;

namespace MailCluster.Outbound.Tests;

/// <summary>
/// The <c>lmtp:host:port</c> route against a small LMTP server on 127.0.0.1 (RFC 2033): LHLO, per-recipient replies
/// after the final dot (one mailbox full → 452 transient for it alone), dot-stuffing, RSET between messages.
/// </summary>
public sealed class LmtpRouteTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Outcomes_are_per_recipient_after_DATA_and_the_connection_is_reused()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var transcript = new StringBuilder();
        var server = ServeAsync(listener, transcript);
        await using var h = await DeliveryHarness.StartAsync(records: [DnsmasqServer.HostRecord("unrelated.test", "127.0.0.1")],
            configure: o => o.Domains.Add(new DomainOutboundOptions { Name = "example.test", Route = $"lmtp:127.0.0.1:{port}" }));

        var connect = await h.Connector.ConnectAsync("example.test", Ct);
        IDeliveryConnection connection = connect.Connection ?? throw new InvalidOperationException(connect.Failure?.Text);
        DeliveryResult first, second;
        await using (connection)
        {
            first = await connection.SendAsync(DeliveryHarness.Request(Encoding.ASCII.GetBytes("Subject: x\r\n\r\n.dot\r\n"), "ok@example.test", "full@example.test"), Ct);
            second = await connection.SendAsync(DeliveryHarness.Request(Encoding.ASCII.GetBytes("Subject: y\r\n\r\nhi\r\n"), "ok@example.test"), Ct);
        }

        await server;
        Assert.Equal((OutcomeKind.Delivered, true), (first.Outcomes[0].Kind, first.FinalDelivery));
        Assert.Equal((OutcomeKind.Transient, 452, "4.2.2"), (first.Outcomes[1].Kind, first.Outcomes[1].Code, first.Outcomes[1].EnhancedCode));
        Assert.Equal(OutcomeKind.Delivered, Assert.Single(second.Outcomes).Kind);
        string log = transcript.ToString();
        Assert.Contains("LHLO client.test\n", log, StringComparison.Ordinal);
        Assert.Contains("..dot\n", log, StringComparison.Ordinal);
        Assert.Contains("RSET\n", log, StringComparison.Ordinal);
    }

    /// <summary>One LMTP session: accepts every RCPT, answers the data once per recipient, 452 for "full@".</summary>
    private static async Task ServeAsync(TcpListener listener, StringBuilder transcript)
    {
        using var client = await listener.AcceptTcpClientAsync(Ct);
        using var stream = client.GetStream();
        using var reader = new StreamReader(stream, Encoding.ASCII);
        var writer = new StreamWriter(stream, Encoding.ASCII) { NewLine = "\r\n", AutoFlush = true };
        await writer.WriteLineAsync("220 lmtp.test LMTP");
        var recipients = new List<string>();
        while (await reader.ReadLineAsync(Ct) is { } line)
        {
            transcript.Append(line).Append('\n');
            string verb = line.Split(' ')[0].ToUpperInvariant();
            switch (verb)
            {
                case "LHLO":
                    await writer.WriteLineAsync("250-lmtp.test\r\n250 ENHANCEDSTATUSCODES");
                    break;
                case "MAIL" or "RSET":
                    recipients.Clear();
                    await writer.WriteLineAsync("250 2.0.0 ok");
                    break;
                case "RCPT":
                    recipients.Add(line);
                    await writer.WriteLineAsync("250 2.1.5 ok");
                    break;
                case "DATA":
                    await writer.WriteLineAsync("354 go");
                    while (await reader.ReadLineAsync(Ct) is { } data && data != ".")
                    {
                        transcript.Append(data).Append('\n');
                    }

                    foreach (string r in recipients)
                    {
                        await writer.WriteLineAsync(r.Contains("full@", StringComparison.Ordinal) ? "452 4.2.2 mailbox full" : "250 2.0.0 stored");
                    }

                    break;
                case "QUIT":
                    await writer.WriteLineAsync("221 bye");
                    return;
                default:
                    await writer.WriteLineAsync("502 no");
                    break;
            }
        }
    }
}
