using System.Globalization;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using MailCluster.Testing;
using Xunit;

namespace MailCluster.Deploy.Tests;

/// <summary>
/// One real node (<c>dotnet MailCluster.Host.dll</c>, embedded SQLite) for the checks that need what a node really
/// exports: TLS from PEM files (as mounted from a Secret), and one message accepted for a smarthost that refuses
/// connections, so that it stays queued and the oldest-message gauge has something to measure.
/// </summary>
public sealed class RunningNode : IAsyncLifetime
{
    private readonly TempDirectory _directory = new();
    private NodeProcess? _process;

    public int OpsPort { get; } = FreePort.Tcp();

    public int MxPort { get; } = FreePort.Tcp();

    public string CertificatePath => Path.Combine(_directory.Path, "tls.crt");

    public string KeyPath => Path.Combine(_directory.Path, "tls.key");

    /// <summary>NotAfter of the certificate written at start.</summary>
    public DateTimeOffset FirstNotAfter { get; private set; }

    /// <summary>When the queued message was submitted (just before its DATA).</summary>
    public DateTimeOffset SubmittedAt { get; private set; }

    /// <summary>The admin token the node generated at its first start (embedded default: <c>{DataDir}/admin.token</c>).</summary>
    public string AdminToken => File.ReadAllText(Path.Combine(_directory.Path, "data", "admin.token")).Trim();

    public NodeProcess Process => _process ?? throw new InvalidOperationException("not started");

    public async ValueTask InitializeAsync()
    {
        FirstNotAfter = WriteCertificate(TimeSpan.FromDays(40));
        var unusedPort = FreePort.Tcp(); // nothing listens here: every delivery attempt is deferred (connection refused)
        var env = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["MailCluster__DataDir"] = Path.Combine(_directory.Path, "data"),
            ["MailCluster__Hostname"] = "mx.deploy.test",
            ["MailCluster__Smtp__BindAddress"] = "127.0.0.1",
            ["MailCluster__Smtp__MxPort"] = MxPort.ToString(CultureInfo.InvariantCulture),
            ["MailCluster__Smtp__SubmissionPort"] = FreePort.Tcp().ToString(CultureInfo.InvariantCulture),
            ["MailCluster__Smtp__SubmissionsPort"] = FreePort.Tcp().ToString(CultureInfo.InvariantCulture),
            ["MailCluster__Smtp__TlsCertificatePath"] = CertificatePath,
            ["MailCluster__Smtp__TlsKeyPath"] = KeyPath,
            ["MailCluster__Smtp__TrustedNetworks__0"] = "127.0.0.0/8",
            ["MailCluster__Ops__BindAddress"] = "127.0.0.1",
            ["MailCluster__Ops__Port"] = OpsPort.ToString(CultureInfo.InvariantCulture),
            ["MailCluster__Outbound__Smarthost"] = $"smtp:127.0.0.1:{unusedPort}",
            ["Logging__LogLevel__Default"] = "Warning",
        };
        _process = NodeProcess.Start(env, "deploy-metrics");
        await _process.WaitReadyAsync(OpsPort, TimeSpan.FromSeconds(90));
        await SubmitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is not null)
        {
            await _process.DisposeAsync();
        }

        _directory.Dispose();
    }

    /// <summary>The node's /metrics text.</summary>
    public async Task<string> MetricsAsync()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(15) };
        return await http.GetStringAsync(new Uri($"http://127.0.0.1:{OpsPort}/metrics"), TestContext.Current.CancellationToken);
    }

    /// <summary>Writes a new self-signed certificate and key valid for <paramref name="lifetime"/>; returns its NotAfter.</summary>
    public DateTimeOffset WriteCertificate(TimeSpan lifetime)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=mx.deploy.test", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var now = DateTimeOffset.UtcNow;
        var notAfter = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, now.Minute, now.Second, TimeSpan.Zero) + lifetime;
        using var certificate = request.CreateSelfSigned(now.AddMinutes(-5), notAfter);

        // Key first, certificate last: the node reloads when the certificate file changes.
        File.WriteAllText(KeyPath, key.ExportPkcs8PrivateKeyPem());
        File.WriteAllText(CertificatePath, certificate.ExportCertificatePem());
        return notAfter;
    }

    /// <summary>One message over SMTP (port 25 role, from a trusted address) for a domain routed to the dead smarthost.</summary>
    private async Task SubmitAsync()
    {
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", MxPort);
        using var stream = client.GetStream();
        using var reader = new StreamReader(stream);
        await using var writer = new StreamWriter(stream) { NewLine = "\r\n", AutoFlush = true };
        await ExpectAsync(reader, "220");
        foreach (var (command, reply) in new[] { ("EHLO client.deploy.test", "250"), ("MAIL FROM:<sender@deploy.test>", "250"), ("RCPT TO:<someone@elsewhere.test>", "250"), ("DATA", "354") })
        {
            await writer.WriteLineAsync(command);
            await ExpectAsync(reader, reply);
        }

        SubmittedAt = DateTimeOffset.UtcNow;
        await writer.WriteAsync("From: sender@deploy.test\r\nTo: someone@elsewhere.test\r\nSubject: stays queued\r\nMessage-ID: <deploy-1@deploy.test>\r\n\r\nHello.\r\n.\r\n");
        await ExpectAsync(reader, "250");
        await writer.WriteLineAsync("QUIT");
    }

    private static async Task ExpectAsync(StreamReader reader, string code)
    {
        string? line;
        do
        {
            line = await reader.ReadLineAsync() ?? throw new InvalidOperationException("the node closed the connection");
        }
        while (line.Length > 3 && line[3] == '-');

        Assert.True(line.StartsWith(code, StringComparison.Ordinal), $"expected {code}, got: {line}");
    }
}
