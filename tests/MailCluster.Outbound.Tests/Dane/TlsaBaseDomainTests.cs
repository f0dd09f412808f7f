using MailCluster.Outbound.Dane;
using Xunit;

namespace MailCluster.Outbound.Tests.Dane;

/// <summary>RFC 7672 §2.2.2: TLSA of a CNAME'd MX host at the expanded name first, then at the original.</summary>
public sealed class TlsaBaseDomainTests
{
    private static readonly TlsaRecord Usable = new(3, 1, 1, new byte[32]);

    [Fact]
    public void The_chain_is_followed_to_its_end_whatever_order_the_answer_lists_it_in()
    {
        Assert.Equal("c.example", TlsaBaseDomain.Expand("mx.example.", [("B.example", "c.example."), ("mx.example", "b.example")]));
        Assert.Equal("mx.example", TlsaBaseDomain.Expand("mx.example", []));
        Assert.Equal("mx.example", TlsaBaseDomain.Expand("mx.example", [("other.example", "c.example")]));

        // A loop ends after a bounded number of hops instead of spinning.
        string looped = TlsaBaseDomain.Expand("a.example", [("a.example", "b.example"), ("b.example", "a.example")]);
        Assert.True(looped is "a.example" or "b.example", looped);
    }

    [Fact]
    public void The_expanded_name_comes_first_and_an_unaliased_host_is_asked_once()
    {
        Assert.Equal(["host.example", "mx.example"], TlsaBaseDomain.Candidates("mx.example.", "host.example"));
        Assert.Equal(["mx.example"], TlsaBaseDomain.Candidates("mx.example", "MX.example."));
    }

    [Fact]
    public void Only_secure_records_or_a_failure_stop_the_search()
    {
        Assert.True(TlsaBaseDomain.Settles(new TlsaLookup(DnsSecurity.Secure, [Usable])));
        Assert.True(TlsaBaseDomain.Settles(new TlsaLookup(DnsSecurity.Secure, [Usable with { Usage = 1 }]))); // unusable still decides
        Assert.True(TlsaBaseDomain.Settles(TlsaLookup.Failed("SERVFAIL")));
        Assert.False(TlsaBaseDomain.Settles(new TlsaLookup(DnsSecurity.Secure, []))); // securely absent: try the original
        Assert.False(TlsaBaseDomain.Settles(new TlsaLookup(DnsSecurity.Insecure, [Usable])));
    }
}
