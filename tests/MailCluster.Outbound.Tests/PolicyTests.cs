using System.Net;
using System.Net.Security;

namespace MailCluster.Outbound.Tests;

/// <summary>The pure per-destination decisions: TLS policy, routes, per-domain overrides, address selection.</summary>
public sealed class PolicyTests
{
    [Theory]
    [InlineData("none", TlsMode.None, true)]
    [InlineData("Opportunistic", TlsMode.Opportunistic, true)]
    [InlineData("REQUIRED", TlsMode.Required, false)]
    [InlineData("verify", TlsMode.Verify, false)]
    public void Tls_modes_parse_and_say_whether_clear_text_is_allowed(string text, TlsMode mode, bool clear)
    {
        var policy = new TlsPolicy(TlsPolicy.ParseMode(text)!.Value, TlsPolicySource.Configuration, []);
        Assert.Equal(mode, policy.Mode);
        Assert.Equal(clear, policy.AllowsClearText);
    }

    [Fact]
    public void Only_verify_checks_the_certificate()
    {
        const SslPolicyErrors bad = SslPolicyErrors.RemoteCertificateNameMismatch | SslPolicyErrors.RemoteCertificateChainErrors;
        Assert.True(TlsPolicy.Default.AcceptCertificate(bad));
        Assert.True(new TlsPolicy(TlsMode.Required, TlsPolicySource.Configuration, []).AcceptCertificate(bad));
        Assert.False(new TlsPolicy(TlsMode.Verify, TlsPolicySource.Configuration, []).AcceptCertificate(bad));
        Assert.True(new TlsPolicy(TlsMode.Verify, TlsPolicySource.MtaSts, ["*.example.com"]).AcceptCertificate(SslPolicyErrors.None));
        Assert.Null(TlsPolicy.ParseMode("sometimes"));
    }

    [Theory]
    [InlineData("mx", RouteKind.Mx, null, 0)]
    [InlineData("smtp:relay.example:587", RouteKind.Smtp, "relay.example", 587)]
    [InlineData("LMTP:10.0.0.5:24", RouteKind.Lmtp, "10.0.0.5", 24)]
    [InlineData("smtp:[::1]:2525", RouteKind.Smtp, "::1", 2525)]
    public void Routes_parse(string text, RouteKind kind, string? host, int port) =>
        Assert.Equal(new DeliveryRoute(kind, host, port), DeliveryRoute.Parse(text));

    [Theory]
    [InlineData("smtp:relay")]
    [InlineData("smtp::25")]
    [InlineData("uucp:host:25")]
    [InlineData("smtp:host:70000")]
    public void Bad_routes_are_rejected(string text) => Assert.Null(DeliveryRoute.Parse(text));

    [Fact]
    public void Domain_entries_override_the_defaults_and_the_smarthost()
    {
        var options = new OutboundOptions { Smarthost = "smtp:relay.test:25", SmarthostUsername = "u", SmarthostPassword = "p", RatePerMinute = 0 };
        options.Domains.Add(new DomainOutboundOptions { Name = "Example.COM", TlsPolicy = "verify", MaxConnections = 2, RatePerMinute = 30 });
        options.Domains.Add(new DomainOutboundOptions { Name = "local.test", Route = "lmtp:127.0.0.1:24" });
        var policies = new DestinationPolicies(options);

        var example = policies.For("example.com");
        Assert.Equal(("relay.test", TlsMode.Verify, 2, 30, "u"), (example.Route.Host, example.Tls.Mode, example.Shaping.MaxConnections, example.Shaping.RatePerMinute, example.Username));
        var local = policies.For("local.test");
        Assert.Equal((RouteKind.Lmtp, null), (local.Route.Kind, local.Username));
        var other = policies.For("other.test");
        Assert.Equal((RouteKind.Smtp, TlsMode.Opportunistic, 10, 100, (int?)null), (other.Route.Kind, other.Tls.Mode, other.Shaping.MaxConnections, other.Shaping.MessagesPerConnection, other.Shaping.RatePerMinute));
        Assert.Equal(RouteKind.Mx, new DestinationPolicies(new OutboundOptions()).For("x.test").Route.Kind);
    }

    [Fact]
    public void Problems_name_the_bad_keys()
    {
        var options = new OutboundOptions { TlsPolicy = "maybe", Smarthost = "mx" };
        options.Domains.Add(new DomainOutboundOptions { Name = "", Route = "nowhere", TlsPolicy = "x", MaxConnections = 0 });
        var problems = DestinationPolicies.Problems(options);
        Assert.Contains("MailCluster:Outbound:TlsPolicy must be none, opportunistic, required or verify", problems);
        Assert.Contains(problems, p => p.StartsWith("MailCluster:Outbound:Smarthost", StringComparison.Ordinal));
        Assert.Contains("MailCluster:Outbound:Domains:0:Name is required", problems);
        Assert.Contains(problems, p => p.StartsWith("MailCluster:Outbound:Domains:0:Route", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("MailCluster:Outbound:Domains:0:TlsPolicy", StringComparison.Ordinal));
        Assert.Equal(6, problems.Count);
    }

    [Theory]
    [InlineData("127.0.0.1", true)]
    [InlineData("10.1.2.3", true)]
    [InlineData("172.16.0.1", true)]
    [InlineData("172.32.0.1", false)]
    [InlineData("192.168.1.1", true)]
    [InlineData("100.64.0.1", true)]
    [InlineData("169.254.1.1", true)]
    [InlineData("0.1.2.3", true)]
    [InlineData("224.0.0.1", true)]
    [InlineData("8.8.8.8", false)]
    [InlineData("::1", true)]
    [InlineData("fe80::1", true)]
    [InlineData("fd00::1", true)]
    [InlineData("::ffff:10.0.0.1", true)]
    [InlineData("2001:db8::1", false)]
    public void Private_addresses(string address, bool isPrivate) => Assert.Equal(isPrivate, AddressPolicy.IsPrivate(IPAddress.Parse(address)));

    [Fact]
    public void Address_selection_filters_and_orders()
    {
        IPAddress[] all = [IPAddress.Parse("2001:db8::1"), IPAddress.Parse("192.0.2.1"), IPAddress.Parse("10.0.0.1"), IPAddress.Parse("2001:db8::2")];
        Assert.Equal(["192.0.2.1", "2001:db8::1", "2001:db8::2"], AddressPolicy.Select(all, AddressPreference.Ipv4, false).Select(a => a.ToString()));
        Assert.Equal(["2001:db8::1", "2001:db8::2", "192.0.2.1", "10.0.0.1"], AddressPolicy.Select(all, AddressPreference.Ipv6, true).Select(a => a.ToString()));
        Assert.Equal(["192.0.2.1"], AddressPolicy.Select(all, AddressPreference.Ipv4Only, false).Select(a => a.ToString()));
        Assert.Equal(["2001:db8::1", "2001:db8::2"], AddressPolicy.Select(all, AddressPreference.Ipv6Only, true).Select(a => a.ToString()));
    }
}
