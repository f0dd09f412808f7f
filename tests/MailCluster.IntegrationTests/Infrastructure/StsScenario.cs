using System.Globalization;
using System.IO.Compression;
using System.Text.Json;
using MailCluster.Testing;

namespace MailCluster.IntegrationTests.Infrastructure;

/// <summary>
/// The world of an MTA-STS scenario (T115-T118), on top of <see cref="Scenario"/>: a test CA (its root given to the
/// node as <c>MailCluster__Outbound__CaCertificatesPath</c>), an HTTPS policy host for <see cref="Domain"/> signed by
/// it (<see cref="StsPolicyServer"/>, also the TLS-RPT https endpoint), and dnsmasq serving sts.test's MX, the
/// <c>_mta-sts</c> TXT record and the <c>_smtp._tls</c> record. The sink's STARTTLS certificate comes from the CA.
/// </summary>
public sealed class StsScenario : IAsyncDisposable
{
    public const string Domain = "sts.test";
    public const string Mx = "mx1.sts.test";
    public const string PolicyHost = "mta-sts.sts.test";
    public const string ReportDomain = "reports.test";

    private StsScenario(Scenario scenario, TestCertificateAuthority ca, StsPolicyServer policy, string caDir)
    {
        Inner = scenario;
        Ca = ca;
        Policy = policy;
        CaDir = caDir;
    }

    public Scenario Inner { get; }

    public TestCertificateAuthority Ca { get; }

    public StsPolicyServer Policy { get; }

    private string CaDir { get; }

    public static string EnforcePolicy(string mode = "enforce", string mx = Mx) =>
        $"version: STSv1\r\nmode: {mode}\r\nmx: {mx}\r\nmax_age: 86400\r\n";

    /// <summary>The DNS records of the world, with the policy id <paramref name="id"/>; <paramref name="extra"/> adds more.</summary>
    public static string[] Records(int policyPort, string id, params string[] extra) =>
    [
        DnsmasqServer.Mx(Domain, Mx, 10),
        DnsmasqServer.HostRecord(Mx, "127.0.0.1"),
        DnsmasqServer.HostRecord(PolicyHost, "127.0.0.1"),
        $"--txt-record=_mta-sts.{Domain},\"v=STSv1; id={id};\"",
        $"--txt-record=_smtp._tls.{Domain},\"v=TLSRPTv1; rua=mailto:tlsrpt@{ReportDomain},https://{PolicyHost}:{policyPort.ToString(CultureInfo.InvariantCulture)}/tlsrpt\"",
        DnsmasqServer.Mx(ReportDomain, Mx, 10),
        .. extra,
    ];

    /// <param name="sinkCertificateName">The DNS name of the sink's certificate.</param>
    public static async Task<StsScenario> StartAsync(string policy, string sinkCertificateName = Mx, bool expired = false, params string[] extraRecords)
    {
        string caDir = Path.Combine(Path.GetTempPath(), "mc-sts-ca-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(caDir);
        var ca = new TestCertificateAuthority(caDir);
        var server = await StsPolicyServer.StartAsync(ca.IssueServerCertificate(PolicyHost));
        server.Policy = policy;
        var sink = new ScriptedSmtpServer(hostName: Mx, certificate: ca.IssueServerCertificate(sinkCertificateName, expired));
        var scenario = await Scenario.StartAsync(Records(server.Port, "1", extraRecords), sink);
        return new StsScenario(scenario, ca, server, caDir);
    }

    /// <summary>A node configured for the world; TLS-RPT periods of 5 s, flushed and checked every second.</summary>
    public NodeConfig NewNodeConfig(IDictionary<string, string>? extra = null)
    {
        var config = Inner.NewNodeConfig(new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["MailCluster__Outbound__CaCertificatesPath"] = Ca.RootPemPath,
            ["MailCluster__Outbound__MtaStsHttpsPort"] = Policy.Port.ToString(CultureInfo.InvariantCulture),
            ["MailCluster__TlsRpt__PeriodSeconds"] = "5",
            ["MailCluster__TlsRpt__FlushSeconds"] = "1",
            ["MailCluster__TlsRpt__CheckSeconds"] = "1",
        });
        foreach (var (key, value) in extra ?? new Dictionary<string, string>())
        {
            config.Environment[key] = value;
        }

        return config;
    }

    /// <summary>The JSON of a gzipped TLS-RPT report.</summary>
    public static JsonDocument Gunzip(byte[] gzip)
    {
        using var input = new GZipStream(new MemoryStream(gzip), CompressionMode.Decompress);
        return JsonDocument.Parse(input);
    }

    public async ValueTask DisposeAsync()
    {
        await Inner.DisposeAsync();
        await Policy.DisposeAsync();
        Ca.Dispose();
        Directory.Delete(CaDir, recursive: true);
    }
}
