using System.Net;
using MailCluster.Edge.Policy;
using Xunit;

namespace MailCluster.Edge.Tests.Policy;

/// <summary>Per-client and per-node connection limits, and the trusted networks' exemption from the per-client one.</summary>
public class ConnectionLimiterTests
{
    private static readonly IPAddress Client = IPAddress.Parse("192.0.2.7");
    private static readonly IPAddress Trusted = IPAddress.Parse("10.1.2.3");

    private static ConnectionLimiter Limiter(int total, int perClient, params string[] trusted)
    {
        var smtp = new SmtpOptions();
        smtp.TrustedNetworks.AddRange(trusted);
        var policy = new RelayPolicy(new DomainsOptions(), smtp);
        return new ConnectionLimiter(total, perClient, policy.IsTrusted);
    }

    [Fact]
    public void A_client_above_its_limit_is_refused_with_the_client_reason()
    {
        var limiter = Limiter(10, 2);
        using var a = limiter.TryAcquire(Client, out _, out _);
        using var b = limiter.TryAcquire(Client, out _, out _);

        var third = limiter.TryAcquire(Client, out var refusal, out var reason);

        Assert.NotNull(a);
        Assert.NotNull(b);
        Assert.Null(third);
        Assert.Equal(ConnectionRefusalReason.ClientLimit, reason);
        Assert.Equal("Too many connections from 192.0.2.7, try again later", refusal);
        Assert.Equal(2, limiter.Open);
    }

    [Fact]
    public void A_client_in_a_trusted_network_is_not_limited_per_client()
    {
        var limiter = Limiter(100, 2, "10.0.0.0/8");
        var leases = Enumerable.Range(0, 20).Select(i => limiter.TryAcquire(Trusted, out _, out _)).ToList();

        Assert.All(leases, Assert.NotNull);
        Assert.Equal(20, limiter.Open);
        foreach (var lease in leases)
        {
            lease!.Dispose();
        }

        Assert.Equal(0, limiter.Open);
    }

    [Fact]
    public void An_ipv4_mapped_address_of_a_trusted_network_is_trusted()
    {
        var limiter = Limiter(100, 1, "10.0.0.0/8");
        using var a = limiter.TryAcquire(Trusted.MapToIPv6(), out _, out _);
        using var b = limiter.TryAcquire(Trusted.MapToIPv6(), out _, out var reason);

        Assert.NotNull(b);
        Assert.Null(reason);
    }

    [Fact]
    public void The_node_total_still_applies_to_trusted_clients()
    {
        var limiter = Limiter(3, 1, "10.0.0.0/8");
        var leases = Enumerable.Range(0, 3).Select(i => limiter.TryAcquire(Trusted, out _, out _)).ToList();

        var fourth = limiter.TryAcquire(Trusted, out var refusal, out var reason);

        Assert.All(leases, Assert.NotNull);
        Assert.Null(fourth);
        Assert.Equal(ConnectionRefusalReason.NodeLimit, reason);
        Assert.Equal("Too many connections, try again later", refusal);
        Assert.Equal(3, limiter.Open);
    }

    [Fact]
    public void Trusted_connections_do_not_use_up_an_untrusted_clients_slots()
    {
        var limiter = Limiter(10, 1, "10.0.0.0/8");
        using var trusted = limiter.TryAcquire(Trusted, out _, out _);
        using var other = limiter.TryAcquire(Client, out _, out _);

        Assert.NotNull(other);
        Assert.Null(limiter.TryAcquire(Client, out _, out _)); // the untrusted client is still held to its limit
    }

    [Fact]
    public void Without_trusted_networks_nobody_is_exempt()
    {
        var limiter = new ConnectionLimiter(10, 1);
        using var a = limiter.TryAcquire(IPAddress.Loopback, out _);

        Assert.Null(limiter.TryAcquire(IPAddress.Loopback, out var refusal));
        Assert.NotNull(refusal);
    }

    [Fact]
    public void A_released_lease_frees_the_client_slot_once()
    {
        var limiter = Limiter(10, 1);
        var lease = limiter.TryAcquire(Client, out _, out _)!;
        lease.Dispose();
        lease.Dispose(); // idempotent: must not free a slot twice

        using var again = limiter.TryAcquire(Client, out _, out _);
        Assert.NotNull(again);
        Assert.Null(limiter.TryAcquire(Client, out _, out _));
        Assert.Equal(1, limiter.Open);
    }
}
