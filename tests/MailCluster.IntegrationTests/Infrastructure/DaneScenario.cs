using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using MailCluster.Testing;

namespace MailCluster.IntegrationTests.Infrastructure;

/// <summary>
/// The world of a DANE scenario (T120-T124), on top of <see cref="Scenario"/>: the recipient domain dane.test is a
/// zone signed here and served by nsd behind a validating unbound (<see cref="DnssecServers"/>), which forwards every
/// other name to the scenario's dnsmasq; the node asks unbound (<c>MailCluster__Dns__DnssecValidating=true</c>,
/// <c>MailCluster__Outbound__Dane=true</c>). The MX mx.dane.test is the sink on 127.0.0.1, its STARTTLS certificate
/// from a test CA; the TLSA records of <c>_port._tcp.mx.dane.test</c> are given per scenario (see <see cref="Ee"/>).
/// plain.test is the same MX in an unsigned zone.
/// </summary>
public sealed class DaneScenario : IAsyncDisposable
{
    public const string Domain = "dane.test";
    public const string Mx = "mx.dane.test";
    public const string PlainDomain = "plain.test";

    private DaneScenario(Scenario inner, DnssecServers dns, TestCertificateAuthority ca, string caDir)
    {
        Inner = inner;
        Dns = dns;
        Ca = ca;
        CaDir = caDir;
    }

    public Scenario Inner { get; }

    public DnssecServers Dns { get; }

    public TestCertificateAuthority Ca { get; }

    private string CaDir { get; }

    /// <summary>A DANE-EE(3) SPKI(1) SHA2-256(1) record for <paramref name="certificate"/>.</summary>
    public static string Ee(X509Certificate2 certificate) =>
        "3 1 1 " + Convert.ToHexStringLower(SHA256.HashData(certificate.PublicKey.ExportSubjectPublicKeyInfo()));

    /// <summary>Starts the world. <paramref name="tlsa"/> makes the TLSA records of the MX from the sink's certificate
    /// and the CA's root; <paramref name="bogus"/> breaks their signature after signing; <paramref name="startTls"/>
    /// false gives a sink that does not offer STARTTLS. <paramref name="cnameTo"/> makes mx.dane.test a CNAME of that
    /// label (which then has the address), and <paramref name="tlsaAt"/> is the label whose TLSA records are published
    /// (RFC 7672 §2.2.2, T126).</summary>
    public static async Task<DaneScenario> StartAsync(
        Func<X509Certificate2, X509Certificate2, string[]> tlsa, string certificateName = Mx, bool bogus = false, bool startTls = true,
        string? cnameTo = null, string tlsaAt = "mx")
    {
        string caDir = Path.Combine(Path.GetTempPath(), "mc-dane-ca-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(caDir);
        var ca = new TestCertificateAuthority(caDir);
        using var root = X509Certificate2.CreateFromPem(File.ReadAllText(ca.RootPemPath));
        var certificate = ca.IssueServerCertificate(certificateName);
        var sink = startTls ? new ScriptedSmtpServer(hostName: Mx, certificate: certificate) : new ScriptedSmtpServer(hostName: Mx);
        var records = tlsa(certificate, root);
        var inner = await Scenario.StartAsync([], sink);
        string port = sink.Port.ToString(CultureInfo.InvariantCulture);
        string[] address = cnameTo is null ? ["mx IN A 127.0.0.1"] : [$"mx IN CNAME {cnameTo}", $"{cnameTo} IN A 127.0.0.1"];
        string[] zone = ["@ IN MX 10 mx", .. address, .. records.Select(r => $"_{port}._tcp.{tlsaAt} IN TLSA {r}")];
        var tampered = bogus && records.Length > 0
            ? new Dictionary<string, (string, string)> { [$"_{port}._tcp.{tlsaAt}.{Domain}"] = (records[0].Split(' ')[3], Flip(records[0].Split(' ')[3])) }
            : null;
        var dns = await DnssecServers.StartAsync(
            new Dictionary<string, string[]> { [Domain] = zone },
            new Dictionary<string, string[]> { [PlainDomain] = ["@ IN MX 10 mx", "mx IN A 127.0.0.1", .. records.Select(r => $"_{port}._tcp.mx IN TLSA {r}")] },
            tampered,
            inner.Dns.Port);
        return new DaneScenario(inner, dns, ca, caDir);
    }

    /// <summary>A node that resolves through the validating unbound, with DANE on.</summary>
    public NodeConfig NewNodeConfig()
    {
        var config = Inner.NewNodeConfig(new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["MailCluster__Outbound__Dane"] = "true",
            ["MailCluster__Dns__DnssecValidating"] = "true",
            ["MailCluster__Outbound__MtaSts"] = "false",
            ["MailCluster__Domains__Relay__1"] = Domain,
            ["MailCluster__Domains__Relay__2"] = PlainDomain,
        });
        config.Environment["MailCluster__Dns__Servers__0"] = Dns.ResolverEndpoint;
        return config;
    }

    public async ValueTask DisposeAsync()
    {
        await Inner.DisposeAsync();
        await Dns.DisposeAsync();
        Ca.Dispose();
        Directory.Delete(CaDir, recursive: true);
    }

    private static string Flip(string hex) => (hex[0] == '0' ? '1' : '0') + hex[1..];
}
