namespace MailCluster.Outbound.Tests;

/// <summary>The pure rules behind #17's outbound gaps: which addresses need SMTPUTF8, their ASCII wire form, and
/// which TLS policies may retry in clear after a failed handshake. ProtocolGapTests checks them over a socket.</summary>
public sealed class WireFormTests
{
    [Theory]
    [InlineData("user@example.com", "user@example.com", false)]
    [InlineData("user@bücher.example", "user@xn--bcher-kva.example", false)]
    [InlineData("USER@Bücher.Example", "USER@xn--bcher-kva.example", false)]
    [InlineData("user@xn--bcher-kva.example", "user@xn--bcher-kva.example", false)]
    [InlineData("jörg@example.com", "jörg@example.com", true)]
    [InlineData("jörg@bücher.example", "jörg@bücher.example", true)]
    [InlineData("user@bad_ü.example", "user@bad_ü.example", true)]
    [InlineData("", "", false)]
    public void Only_a_non_ascii_local_part_or_an_invalid_idn_needs_smtputf8(string address, string wire, bool needsUtf8)
    {
        Assert.Equal(wire, OutboundContent.ToWireForm(address));
        Assert.Equal(needsUtf8, OutboundContent.NeedsSmtpUtf8(address));
    }

    [Fact]
    public void An_ascii_address_is_returned_as_the_same_instance()
    {
        string address = "user@example.com";
        Assert.Same(address, OutboundContent.ToWireForm(address));
    }

    [Fact]
    public void A_unicode_domain_alone_no_longer_fails_at_a_peer_without_smtputf8()
    {
        var body = Messages.Simple();
        Assert.Equal(ContentAction.Send, OutboundContent.Decide(body, "ann@bücher.example", ["bob@bücher.example"], false, true, true).Action);
        Assert.Equal(ContentAction.Fail, OutboundContent.Decide(body, "ann@origin.test", ["jörg@bücher.example"], false, true, true).Action);
        Assert.Equal(ContentAction.SendUtf8, OutboundContent.Decide(body, "ann@origin.test", ["jörg@bücher.example"], true, true, true).Action);
    }

    [Theory]
    [InlineData(TlsMode.None, null)]
    [InlineData(TlsMode.Opportunistic, TlsMode.None)]
    [InlineData(TlsMode.Required, null)]
    [InlineData(TlsMode.Verify, null)]
    public void Only_opportunistic_tls_retries_in_clear_after_a_failed_handshake(TlsMode mode, TlsMode? retry)
    {
        var policy = new TlsPolicy(mode, TlsPolicySource.Configuration, []);
        Assert.Equal(retry, policy.AfterHandshakeFailure?.Mode);
        Assert.True(policy.AfterHandshakeFailure?.AllowsClearText ?? true);
    }
}
