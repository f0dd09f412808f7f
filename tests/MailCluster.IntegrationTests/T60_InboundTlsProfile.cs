using System.Diagnostics;
using System.Xml.Linq;
using MailCluster.IntegrationTests.Infrastructure;
using MailCluster.Testing;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T60 (#17): sslscan (Debian package) against a real node's submission port (STARTTLS) and implicit-TLS port. The
/// default profile offers TLS 1.2 and 1.3 only and AEAD suites only (no CBC: nothing for LUCKY13); the compatible
/// profile adds CBC suites for old clients, still without TLS below 1.2; a bad profile name stops the node with the
/// key named.
/// </summary>
[ParallelScenario]
public class T60_InboundTlsProfile
{
    [Fact]
    public async Task Default_profile_offers_only_aead_suites_over_tls_1_2_and_1_3()
    {
        string sslscan = SslScan();
        await using var scenario = await Scenario.StartAsync();
        var config = scenario.NewNodeConfig();
        await scenario.StartNodeAsync(config);

        foreach (var (port, starttls) in new[] { (config.SubmissionPort, true), (config.SubmissionsPort, false) })
        {
            var scan = await ScanAsync(sslscan, port, starttls);
            Assert.Equal(["1.2", "1.3"], scan.Protocols);
            Assert.Contains(scan.Ciphers, c => c.Version == "TLSv1.2");
            Assert.Contains(scan.Ciphers, c => c.Version == "TLSv1.3");
            Assert.All(scan.Ciphers, c => Assert.True(IsAead(c.Name), $"port {port}: {c.Version} {c.Name} is not an AEAD suite"));
            Assert.All(scan.Ciphers.Where(c => c.Version == "TLSv1.2"), c => Assert.StartsWith("ECDHE-", c.Name, StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task Compatible_profile_adds_cbc_suites_but_no_older_protocol()
    {
        string sslscan = SslScan();
        await using var scenario = await Scenario.StartAsync();
        var config = scenario.NewNodeConfig(new Dictionary<string, string> { ["MailCluster__Smtp__TlsCipherProfile"] = "compatible" });
        await scenario.StartNodeAsync(config);

        foreach (var (port, starttls) in new[] { (config.SubmissionPort, true), (config.SubmissionsPort, false) })
        {
            var scan = await ScanAsync(sslscan, port, starttls);
            Assert.Equal(["1.2", "1.3"], scan.Protocols);
            Assert.Contains(scan.Ciphers, c => c.Version == "TLSv1.2" && !IsAead(c.Name));
            Assert.Contains(scan.Ciphers, c => c.Version == "TLSv1.2" && IsAead(c.Name));
        }
    }

    [Fact]
    public async Task An_unknown_profile_stops_the_node_naming_the_key()
    {
        await using var node = NodeProcess.Start(new Dictionary<string, string>
        {
            ["MailCluster__Smtp__TlsCipherProfile"] = "legacy",
            ["MailCluster__DataDir"] = Path.Combine(Path.GetTempPath(), "mc-badconfig-t60"),
        });
        Assert.Equal(2, await node.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains("MailCluster__Smtp__TlsCipherProfile", node.Log, StringComparison.Ordinal);
        Assert.Contains("must be intermediate or compatible, got 'legacy'", node.Log, StringComparison.Ordinal);
    }

    /// <summary>OpenSSL's names: AES-GCM, ChaCha20-Poly1305 and AES-CCM are AEAD; TLS 1.3 suites all are.</summary>
    private static bool IsAead(string openSslName) =>
        openSslName.StartsWith("TLS_", StringComparison.Ordinal)
        || openSslName.Contains("GCM", StringComparison.Ordinal)
        || openSslName.Contains("CHACHA20", StringComparison.Ordinal)
        || openSslName.Contains("CCM", StringComparison.Ordinal);

    private static string SslScan()
    {
        var path = TestTools.Find("sslscan");
        Assert.SkipWhen(path is null, "sslscan is not installed (test.sh installs it)");
        return path!;
    }

    private sealed record Scan(IReadOnlyList<string> Protocols, IReadOnlyList<(string Version, string Name)> Ciphers);

    /// <summary>Runs sslscan with XML output against 127.0.0.1:<paramref name="port"/>: the enabled protocol versions and
    /// the accepted suites.</summary>
    private static async Task<Scan> ScanAsync(string sslscan, int port, bool starttls)
    {
        var start = new ProcessStartInfo(sslscan) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in (string[])["--no-colour", "--no-heartbleed", "--no-fallback", "--no-renegotiation", "--no-compression", "--xml=-"])
        {
            start.ArgumentList.Add(arg);
        }

        if (starttls)
        {
            start.ArgumentList.Add("--starttls-smtp");
        }

        start.ArgumentList.Add($"127.0.0.1:{port}");
        using var process = Process.Start(start)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        string xml = await stdout;
        int begin = xml.IndexOf("<?xml", StringComparison.Ordinal);
        Assert.True(begin >= 0, $"sslscan printed no XML; stderr: {await stderr}");
        var doc = XDocument.Parse(xml[begin..]);
        var protocols = doc.Descendants("protocol")
            .Where(p => (string?)p.Attribute("enabled") == "1")
            .Select(p => (string?)p.Attribute("type") == "tls" ? (string)p.Attribute("version")! : "ssl" + (string?)p.Attribute("version"))
            .Order(StringComparer.Ordinal)
            .ToList();
        var ciphers = doc.Descendants("cipher")
            .Select(c => ((string)c.Attribute("sslversion")!, (string)c.Attribute("cipher")!))
            .ToList();
        Assert.NotEmpty(ciphers);
        return new Scan(protocols, ciphers);
    }
}
