using DnsClient;
using MailCluster.Testing;

namespace MailCluster.Outbound.Tests;

public sealed class DnsmasqServerTests
{
    [Fact]
    public async Task Serves_MX_and_host_records()
    {
        await using var dns = await DnsmasqServer.StartAsync(
            [DnsmasqServer.Mx("example.test", "mx1.example.test", 10), DnsmasqServer.HostRecord("mx1.example.test", "127.0.0.1")]);
        var client = new LookupClient(new LookupClientOptions(dns.IPEndPoint) { UseCache = false });

        var mx = await client.QueryAsync("example.test", QueryType.MX);
        var record = Assert.Single(mx.Answers.MxRecords());
        Assert.Equal("mx1.example.test.", record.Exchange.Value);
        Assert.Equal(10, record.Preference);
        Assert.True(record.InitialTimeToLive > 0, "--local-ttl makes answers cacheable");

        var a = await client.QueryAsync("mx1.example.test", QueryType.A);
        Assert.Equal("127.0.0.1", Assert.Single(a.Answers.ARecords()).Address.ToString());
        Assert.StartsWith("127.0.0.1:", dns.Endpoint, StringComparison.Ordinal);
    }
}
