using System.Net;
using MailCluster.Testing;

namespace MailCluster.Outbound.Tests;

/// <summary>MX resolution against a real dnsmasq (RFC 5321 §5.1, RFC 7505).</summary>
public sealed class MxResolverTests : IAsyncLifetime
{
    private DnsmasqServer? _dns;

    private DnsmasqServer Dns => _dns ?? throw new InvalidOperationException("not started");

    public async ValueTask InitializeAsync() => _dns = await DnsmasqServer.StartAsync(
    [
        DnsmasqServer.Mx("multi.test", "mx-b.multi.test", 20),
        DnsmasqServer.Mx("multi.test", "mx-a.multi.test", 10),
        DnsmasqServer.Mx("multi.test", "mx-c.multi.test", 30),
        DnsmasqServer.HostRecord("mx-a.multi.test", "127.0.0.11"),
        DnsmasqServer.HostRecord("mx-b.multi.test", "127.0.0.12", "::1"),
        DnsmasqServer.HostRecord("mx-c.multi.test", "127.0.0.13"),
        DnsmasqServer.HostRecord("plain.test", "127.0.0.5"),
        DnsmasqServer.NullMx("nullmx.test"),
        DnsmasqServer.Mx("dangling.test", "nowhere.dangling.test", 10),
    ]);

    public async ValueTask DisposeAsync()
    {
        if (_dns is not null)
        {
            await _dns.DisposeAsync();
        }
    }

    private MxResolver Resolver(int timeoutSeconds = 2, params string[] servers)
    {
        var options = new DnsOptions { TimeoutSeconds = timeoutSeconds, Retries = 0 };
        options.Servers.AddRange(servers.Length == 0 ? [Dns.Endpoint] : servers);
        return new MxResolver(options);
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task MX_records_come_back_by_preference_with_addresses()
    {
        var result = await Resolver().ResolveAsync("multi.test", Ct);
        Assert.Equal(MxResolutionKind.Ok, result.Kind);
        Assert.Equal(["mx-a.multi.test", "mx-b.multi.test", "mx-c.multi.test"], result.Targets.Select(t => t.Host));
        Assert.Equal([10, 20, 30], result.Targets.Select(t => t.Preference));
        Assert.Equal([IPAddress.Parse("127.0.0.12"), IPAddress.IPv6Loopback], result.Targets[1].Addresses);
    }

    [Fact]
    public async Task No_MX_falls_back_to_the_domain_address()
    {
        var result = await Resolver().ResolveAsync("plain.test", Ct);
        var target = Assert.Single(result.Targets);
        Assert.Equal(new MxTarget("plain.test", 0, [IPAddress.Parse("127.0.0.5")]), target with { Addresses = [.. target.Addresses] },
            new TargetComparer());
    }

    [Fact]
    public async Task Null_MX_is_permanent_556_5_1_10()
    {
        var result = await Resolver().ResolveAsync("nullmx.test", Ct);
        Assert.Equal((MxResolutionKind.Permanent, 556, "5.1.10"), (result.Kind, result.Code, result.EnhancedCode));
    }

    [Fact]
    public async Task NXDOMAIN_is_permanent_5_1_2()
    {
        var result = await Resolver().ResolveAsync("no-such-domain.test", Ct);
        Assert.Equal((MxResolutionKind.Permanent, "5.1.2"), (result.Kind, result.EnhancedCode));
        Assert.Contains("NXDOMAIN", result.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MX_host_without_address_is_permanent_5_4_4()
    {
        var result = await Resolver().ResolveAsync("dangling.test", Ct);
        Assert.Equal((MxResolutionKind.Permanent, "5.4.4"), (result.Kind, result.EnhancedCode));
    }

    [Fact]
    public async Task Unreachable_DNS_server_is_transient_4_4_3()
    {
        string silent = $"127.0.0.1:{FreePort.TcpAndUdp()}";
        var result = await Resolver(1, silent).ResolveAsync("multi.test", Ct);
        Assert.Equal((MxResolutionKind.Transient, "4.4.3"), (result.Kind, result.EnhancedCode));
        Assert.Empty(result.Targets);
    }

    [Theory]
    [InlineData("127.0.0.1:5353", "127.0.0.1", 5353)]
    [InlineData("127.0.0.1", "127.0.0.1", 53)]
    [InlineData("[::1]:5300", "::1", 5300)]
    [InlineData("::1", "::1", 53)]
    public void Parses_server_endpoints(string value, string address, int port)
    {
        var server = MxResolver.ParseServer(value);
        Assert.Equal(new IPEndPoint(IPAddress.Parse(address), port), new IPEndPoint(server.Address is { } a ? IPAddress.Parse(a) : IPAddress.None, server.Port));
    }

    private sealed class TargetComparer : IEqualityComparer<MxTarget>
    {
        public bool Equals(MxTarget? x, MxTarget? y) =>
            x is not null && y is not null && x.Host == y.Host && x.Preference == y.Preference && x.Addresses.SequenceEqual(y.Addresses);

        public int GetHashCode(MxTarget obj) => obj.Host.GetHashCode(StringComparison.Ordinal);
    }
}
