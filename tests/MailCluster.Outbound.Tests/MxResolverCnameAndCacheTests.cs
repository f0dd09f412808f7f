using System.Net;
using MailCluster.Testing;

namespace MailCluster.Outbound.Tests;

/// <summary>CNAME following and TTL caching of <see cref="MxResolver"/> against a real dnsmasq.</summary>
public sealed class MxResolverCnameAndCacheTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static MxResolver Resolver(DnsmasqServer dns)
    {
        var options = new DnsOptions { TimeoutSeconds = 1, Retries = 0 };
        options.Servers.Add(dns.Endpoint);
        return new MxResolver(options);
    }

    [Fact]
    public async Task CNAMEs_are_followed_for_the_domain_and_for_MX_hosts()
    {
        await using var dns = await DnsmasqServer.StartAsync(
        [
            DnsmasqServer.Mx("real.test", "mx.real.test", 10),
            DnsmasqServer.HostRecord("mx.real.test", "127.0.0.21"),
            DnsmasqServer.HostRecord("box.real.test", "127.0.0.22"),
            "--cname=alias.test,real.test",
            "--cname=mxalias.real.test,box.real.test",
            DnsmasqServer.Mx("viaalias.test", "mxalias.real.test", 10),
        ]);
        var resolver = Resolver(dns);

        var alias = await resolver.ResolveAsync("alias.test", Ct);
        Assert.Equal(MxResolutionKind.Ok, alias.Kind);
        Assert.Equal(("mx.real.test", IPAddress.Parse("127.0.0.21")), (alias.Targets[0].Host, alias.Targets[0].Addresses[0]));

        var viaAlias = await resolver.ResolveAsync("viaalias.test", Ct);
        Assert.Equal(IPAddress.Parse("127.0.0.22"), Assert.Single(Assert.Single(viaAlias.Targets).Addresses));
    }

    [Fact]
    public async Task Answers_are_cached_for_their_TTL()
    {
        var dns = await DnsmasqServer.StartAsync(
            [DnsmasqServer.Mx("cached.test", "mx.cached.test", 10), DnsmasqServer.HostRecord("mx.cached.test", "127.0.0.31")]);
        var resolver = Resolver(dns);
        var first = await resolver.ResolveAsync("cached.test", Ct);
        Assert.Equal(MxResolutionKind.Ok, first.Kind);

        // With the server gone, the answers (TTL 300 s) still come from the cache; an uncached name fails transiently.
        await dns.DisposeAsync();
        var second = await resolver.ResolveAsync("cached.test", Ct);
        Assert.Equal((MxResolutionKind.Ok, "mx.cached.test"), (second.Kind, Assert.Single(second.Targets).Host));
        Assert.Equal(MxResolutionKind.Transient, (await resolver.ResolveAsync("other.test", Ct)).Kind);
    }
}
