using MailCluster.Testing;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;

namespace MailCluster.IntegrationTests.Infrastructure;

/// <summary>
/// The world of an end-to-end scenario: a real dnsmasq serving MX records for <see cref="RelayDomain"/>
/// (→ mx1.relay.test → 127.0.0.1), a <see cref="ScriptedSmtpServer"/> as the destination MTA, and node
/// processes configured through the same environment variables an operator uses.
/// </summary>
public sealed class Scenario : IAsyncDisposable
{
    public const string RelayDomain = "relay.test";

    /// <summary>A sender domain whose MX is the same sink, so that DSNs to senders there can be observed.</summary>
    public const string SenderDomain = "senders.test";

    private readonly List<NodeProcess> _nodes = [];

    private Scenario(DnsmasqServer dns, ScriptedSmtpServer sink, string dataDir)
    {
        Dns = dns;
        Sink = sink;
        DataDir = dataDir;
    }

    public DnsmasqServer Dns { get; }

    public ScriptedSmtpServer Sink { get; }

    public string DataDir { get; }

    public static Task<Scenario> StartAsync() => StartAsync([]);

    /// <param name="extraRecords">More dnsmasq records (<see cref="DnsmasqServer.Mx"/> etc.) besides the relay and sender domains.</param>
    /// <param name="sink">The destination MTA; a plain <see cref="ScriptedSmtpServer"/> when null.</param>
    public static async Task<Scenario> StartAsync(IEnumerable<string> extraRecords, ScriptedSmtpServer? sink = null)
    {
        var dns = await DnsmasqServer.StartAsync(
        [
            DnsmasqServer.Mx(RelayDomain, "mx1.relay.test", 10),
            DnsmasqServer.HostRecord("mx1.relay.test", "127.0.0.1"),
            DnsmasqServer.Mx(SenderDomain, "mx1.relay.test", 10),
            .. extraRecords,
        ]).ConfigureAwait(false);
        sink ??= new ScriptedSmtpServer();
        var dataDir = Path.Combine(Path.GetTempPath(), "mc-it-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dataDir);
        var scenario = new Scenario(dns, sink, dataDir);
        await File.WriteAllTextAsync(scenario.AdminTokenFile, scenario.AdminToken + "\n").ConfigureAwait(false);
        return scenario;
    }

    /// <summary>
    /// The admin token every node of the scenario is given, through the file an operator mounts
    /// (<c>MailCluster__Ops__AdminTokenFile</c>); <see cref="QueueApiClient.For"/> sends it. A scenario that needs a
    /// node to generate its own sets that key to the empty string.
    /// </summary>
    public string AdminToken { get; } = "mct_harness_" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));

    public string AdminTokenFile => Path.Combine(DataDir, "harness-admin.token");

    /// <summary>The environment of a single node with fresh ports; <paramref name="extra"/> overrides or adds.</summary>
    public NodeConfig NewNodeConfig(IDictionary<string, string>? extra = null)
    {
        var config = new NodeConfig(FreePort.Tcp(), FreePort.Tcp(), FreePort.Tcp(), FreePort.Tcp());
        var env = config.Environment;
        env["MailCluster__DataDir"] = DataDir;
        env["MailCluster__Hostname"] = "mc.test";
        env["MailCluster__Smtp__MxPort"] = config.MxPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        env["MailCluster__Smtp__SubmissionPort"] = config.SubmissionPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        env["MailCluster__Smtp__SubmissionsPort"] = config.SubmissionsPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        env["MailCluster__Ops__Port"] = config.OpsPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        env["MailCluster__Ops__AdminTokenFile"] = AdminTokenFile;
        config.AdminToken = AdminToken;
        env["MailCluster__Domains__Relay__0"] = RelayDomain;
        env["MailCluster__Dns__Servers__0"] = Dns.Endpoint;
        env["MailCluster__Outbound__Port"] = Sink.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);

        // Every MX here is on 127.0.0.0/8, which production refuses (MX records must not reach inside the network).
        env["MailCluster__Outbound__AllowPrivateDestinations"] = "true";
        env["MailCluster__Retry__InitialSeconds"] = "1";
        env["MailCluster__Retry__MaxSeconds"] = "8";
        env["MailCluster__Cluster__Host"] = "127.0.0.1";

        // An explicit cluster port: with port 0 the kernel picks an ephemeral port for Akka.Remote, which once was the
        // ops port FreePort had just handed out (the node then failed to bind it).
        env["MailCluster__Cluster__Port"] = FreePort.Tcp().ToString(System.Globalization.CultureInfo.InvariantCulture);
        env["Logging__LogLevel__Default"] = "Information";
        foreach (var (key, value) in extra ?? new Dictionary<string, string>())
        {
            env[key] = value;
        }

        return config;
    }

    /// <summary>The log file of every node process this scenario started (killed incarnations too).</summary>
    public IReadOnlyList<string> LogFiles => [.. _nodes.Select(n => n.LogFilePath)];

    public async Task<NodeProcess> StartNodeAsync(NodeConfig config, string name = "node")
    {
        var node = NodeProcess.Start(config.Environment, name);
        _nodes.Add(node);
        await node.WaitReadyAsync(config.OpsPort, TimeSpan.FromSeconds(90)).ConfigureAwait(false);
        return node;
    }

    /// <summary>A message as a real client builds it: MimeKit, with 8-bit text, a folded header and a dot line.</summary>
    public static MimeMessage NewMessage(string to, string subject, string from = "sender@example.org")
    {
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse(from));
        message.To.Add(MailboxAddress.Parse(to));
        message.Subject = subject;
        message.MessageId = Guid.NewGuid().ToString("N") + "@example.org";
        message.Headers.Add("X-Long", string.Join(' ', Enumerable.Repeat("folded-header-value", 8)));
        message.Body = new TextPart("plain")
        {
            Text = "Hello from the test.\r\n.\r\n..leading dots stay\r\nGrüße, 8-bit text\r\n",
        };
        return message;
    }

    /// <summary>The exact bytes MailKit puts on the wire for <paramref name="message"/> (before dot-stuffing).</summary>
    public static byte[] WireBytes(MimeMessage message)
    {
        using var stream = new MemoryStream();
        message.WriteTo(WireFormat, stream);
        return stream.ToArray();
    }

    public static readonly FormatOptions WireFormat = CreateWireFormat();

    private static FormatOptions CreateWireFormat()
    {
        var options = FormatOptions.Default.Clone();
        options.NewLineFormat = NewLineFormat.Dos;
        return options;
    }

    /// <summary>Sends with MailKit and returns the server's final reply text.</summary>
    public static async Task<string> SendAsync(int port, MimeMessage message)
    {
        using var client = new SmtpClient();
        await client.ConnectAsync("127.0.0.1", port, SecureSocketOptions.None).ConfigureAwait(false);
        var reply = await client.SendAsync(WireFormat, message).ConfigureAwait(false);
        await client.DisconnectAsync(true).ConfigureAwait(false);
        return reply;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            await node.DisposeAsync().ConfigureAwait(false);
        }

        await Sink.DisposeAsync().ConfigureAwait(false);
        await Dns.DisposeAsync().ConfigureAwait(false);
        try
        {
            Directory.Delete(DataDir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

public sealed record NodeConfig(int MxPort, int SubmissionPort, int SubmissionsPort, int OpsPort)
{
    public Dictionary<string, string> Environment { get; } = new(StringComparer.Ordinal);

    /// <summary>An admin token the node accepts (the scenario's admin token file).</summary>
    public string AdminToken { get; set; } = "";
}
