using DnsClient;
using MailCluster.Outbound.Dane;
using MailCluster.Testing;
using Xunit;

namespace MailCluster.Outbound.Tests.Dane;

/// <summary>TLSA and address lookups with their DNSSEC status, against a zone signed here, served by nsd, behind a
/// validating unbound (tests/MailCluster.Testing/DnssecServers.cs).</summary>
public sealed class DaneResolverTests
{
    private const string Hash = "8cb0fc6c527506a053f4f14c8464bebbd6dede2738d11468dd953d7d6a3021f1";

    [Fact]
    public async Task Secure_insecure_absent_and_bogus_answers_are_told_apart()
    {
        await using var dns = await DnssecServers.StartAsync(
            new Dictionary<string, string[]>
            {
                ["dane.test"] =
                [
                    "mx IN A 127.0.0.5",
                    $"_25._tcp.mx IN TLSA 3 1 1 {Hash}",
                    "bad IN A 127.0.0.6",
                    $"_25._tcp.bad IN TLSA 3 1 1 {Hash}",
                    "plainmx IN A 127.0.0.7",
                ],
            },
            new Dictionary<string, string[]>
            {
                ["plain.test"] = ["mx IN A 127.0.0.8", $"_25._tcp.mx IN TLSA 3 1 1 {Hash}"],
            },
            new Dictionary<string, (string, string)> { ["_25._tcp.bad.dane.test"] = (Hash, Hash.Replace('8', '9')) },
            TestContext.Current.CancellationToken);
        var options = new DnsOptions { TimeoutSeconds = 5, Retries = 0 };
        options.Servers.Add(dns.ResolverEndpoint);
        var resolver = new DaneResolver(options);
        var ct = TestContext.Current.CancellationToken;

        var secure = await resolver.TlsaAsync("mx.dane.test", 25, ct);
        Assert.Equal(DnsSecurity.Secure, secure.Security);
        Assert.Equal($"3 1 1 {Hash}", Assert.Single(secure.Records).ToString());
        Assert.Equal(DnsSecurity.Secure, await resolver.SecurityOfAsync("mx.dane.test", QueryType.A, ct));

        var absent = await resolver.TlsaAsync("plainmx.dane.test", 25, ct); // NODATA, proven by NSEC
        Assert.Equal((DnsSecurity.Secure, 0), (absent.Security, absent.Records.Count));
        Assert.Equal(DnsSecurity.Secure, (await resolver.TlsaAsync("nothere.dane.test", 25, ct)).Security); // NXDOMAIN, proven

        var insecure = await resolver.TlsaAsync("mx.plain.test", 25, ct);
        Assert.Equal((DnsSecurity.Insecure, 1), (insecure.Security, insecure.Records.Count));
        Assert.Equal(DnsSecurity.Insecure, await resolver.SecurityOfAsync("mx.plain.test", QueryType.A, ct));

        var bogus = await resolver.TlsaAsync("bad.dane.test", 25, ct);
        Assert.Equal(DnsSecurity.Indeterminate, bogus.Security);
        Assert.Contains("ServerFailure", bogus.Error, StringComparison.Ordinal);
        Assert.Equal(DaneVerdictKind.Defer, DaneVerdict.Decide(DnsSecurity.Secure, DnsSecurity.Secure, bogus).Kind);
    }

    [Fact]
    public async Task A_cname_chain_is_expanded_and_secure_only_when_every_link_is()
    {
        await using var dns = await DnssecServers.StartAsync(
            new Dictionary<string, string[]>
            {
                ["dane.test"] = ["mx IN CNAME hop", "hop IN CNAME host", "host IN A 127.0.0.5", $"_25._tcp.host IN TLSA 3 1 1 {Hash}", "out IN CNAME host.plain.test."],
            },
            new Dictionary<string, string[]> { ["plain.test"] = ["host IN A 127.0.0.8"] },
            null,
            TestContext.Current.CancellationToken);
        var options = new DnsOptions { TimeoutSeconds = 5, Retries = 0 };
        options.Servers.Add(dns.ResolverEndpoint);
        var resolver = new DaneResolver(options);
        var ct = TestContext.Current.CancellationToken;

        Assert.Equal(new AddressLookup(DnsSecurity.Secure, "host.dane.test"), await resolver.AddressAsync("mx.dane.test", ct));
        Assert.Equal(new AddressLookup(DnsSecurity.Secure, "host.dane.test"), await resolver.AddressAsync("host.dane.test.", ct));
        Assert.Equal(new AddressLookup(DnsSecurity.Insecure, "host.plain.test"), await resolver.AddressAsync("out.dane.test", ct));
        Assert.Equal(DnsSecurity.Secure, (await resolver.TlsaAsync("host.dane.test", 25, ct)).Security);
    }
}
