using MailCluster.Queue.Delivery;
using MailCluster.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace MailCluster.Outbound.Tests;

/// <summary>A real dnsmasq serving <c>example.test</c> plus a <see cref="ScriptedSmtpServer"/> on 127.0.0.1, and the connector under test.</summary>
internal sealed class DeliveryHarness : IAsyncDisposable
{
    public static readonly string[] DefaultRecords =
        [DnsmasqServer.Mx("example.test", "mx1.example.test", 10), DnsmasqServer.HostRecord("mx1.example.test", "127.0.0.1")];

    private DeliveryHarness(ScriptedSmtpServer smtp, DnsmasqServer dns, int port, Action<OutboundOptions>? configure)
    {
        Smtp = smtp;
        Dns = dns;
        var dnsOptions = new DnsOptions { TimeoutSeconds = 2 };
        dnsOptions.Servers.Add(dns.Endpoint);
        Resolver = new MxResolver(dnsOptions);
        var options = new OutboundOptions { Port = port, HeloName = "client.test", ConnectTimeoutSeconds = 5, CommandTimeoutSeconds = 10, AllowPrivateDestinations = true };
        configure?.Invoke(options);
        Connector = new NextHopConnector(Resolver, Options.Create(options), NullLogger<NextHopConnector>.Instance);
        Deliverer = new OneMessageDeliverer(Connector);
    }

    public ScriptedSmtpServer Smtp { get; }

    public DnsmasqServer Dns { get; }

    public MxResolver Resolver { get; }

    /// <summary>The connector under test.</summary>
    public NextHopConnector Connector { get; }

    /// <summary>One message per fresh connection of <see cref="Connector"/>.</summary>
    public OneMessageDeliverer Deliverer { get; }

    /// <param name="port">The port the connector connects to; the SMTP server's when null.</param>
    /// <param name="configure">Changes to the connector's options (TLS policy, timeouts, routes...).</param>
    /// <param name="bind">The loopback address the SMTP server listens on (127.0.0.1 when null; ::1 for IPv6).</param>
    public static async Task<DeliveryHarness> StartAsync(string[]? records = null, bool startTls = false, int? port = null, Action<OutboundOptions>? configure = null,
        System.Net.IPAddress? bind = null)
    {
        var smtp = new ScriptedSmtpServer(startTls, "mx1.example.test", bind);
        var dns = await DnsmasqServer.StartAsync(records ?? DefaultRecords);
        return new DeliveryHarness(smtp, dns, port ?? smtp.Port, configure);
    }

    public static DeliveryRequest Request(byte[] body, params string[] recipients) =>
        new("example.test", "msg-1", "ann@origin.test", recipients.Length == 0 ? ["bob@example.test"] : recipients, body);

    public Task<DeliveryResult> DeliverAsync(byte[] body, string sender = "ann@origin.test", params string[] recipients) =>
        Deliverer.DeliverAsync(
            new DeliveryRequest("example.test", "msg-1", sender, recipients.Length == 0 ? ["bob@example.test"] : recipients, body),
            TestContext.Current.CancellationToken);

    public async ValueTask DisposeAsync()
    {
        await Smtp.DisposeAsync();
        await Dns.DisposeAsync();
    }
}

internal static class Messages
{
    public static byte[] Simple(string subject = "hello") =>
        System.Text.Encoding.ASCII.GetBytes(
            $"From: ann@origin.test\r\nTo: bob@example.test\r\nSubject: {subject}\r\nMessage-ID: <1@origin.test>\r\n\r\nHello Bob.\r\n");
}
