using System.Net;
using System.Text;
using MailCluster.Queue.Delivery;
using MailCluster.Queue.Protocol;
using MailCluster.Testing;

namespace MailCluster.Outbound.Tests;

/// <summary>
/// Issue #17's outbound protocol gaps, each over a real socket to a <see cref="ScriptedSmtpServer"/> found through a
/// real dnsmasq: the STARTTLS fallback, IDN domains as A-labels, DSN parameters on the wire, BDAT, and IPv6.
/// Assertions are on the command lines the peer received.
/// </summary>
public sealed class ProtocolGapTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Opportunistic_tls_retries_the_same_mx_in_clear_when_the_handshake_fails()
    {
        await using var h = await DeliveryHarness.StartAsync(startTls: true);
        h.Smtp.BreakStartTls = true;

        var result = await h.DeliverAsync(Messages.Simple());

        Assert.Equal(OutcomeKind.Delivered, Assert.Single(result.Outcomes).Kind);
        Assert.Null(result.TlsProtocol);
        Assert.Equal(2, h.Smtp.ConnectionCount);
        var commands = h.Smtp.CommandLines;
        Assert.Single(commands, c => c == "STARTTLS");
        Assert.True(commands.ToList().IndexOf("STARTTLS") < commands.ToList().FindIndex(c => c.StartsWith("MAIL", StringComparison.Ordinal)));
        Assert.Equal(Messages.Simple(), (await h.Smtp.WaitForMessageAsync(Wait)).Data);
    }

    [Theory]
    [InlineData("required")]
    [InlineData("verify")]
    public async Task Required_tls_never_falls_back_to_clear_text(string policy)
    {
        await using var h = await DeliveryHarness.StartAsync(startTls: true, configure: o => o.TlsPolicy = policy);
        h.Smtp.BreakStartTls = true;

        var result = await h.DeliverAsync(Messages.Simple());

        var outcome = Assert.Single(result.Outcomes);
        Assert.Equal(OutcomeKind.Transient, outcome.Kind);
        Assert.Contains("TLS handshake failed", outcome.Text, StringComparison.Ordinal);
        Assert.Equal(1, h.Smtp.ConnectionCount);
        Assert.DoesNotContain(h.Smtp.CommandLines, c => c.StartsWith("MAIL", StringComparison.OrdinalIgnoreCase));
        Assert.Empty(h.Smtp.Messages);
    }

    [Fact]
    public async Task A_unicode_domain_goes_out_as_its_a_label_to_a_peer_without_smtputf8()
    {
        string[] records = [DnsmasqServer.Mx("xn--bcher-kva.example", "mx1.example.test", 10), DnsmasqServer.HostRecord("mx1.example.test", "127.0.0.1")];
        await using var h = await DeliveryHarness.StartAsync(records);
        h.Smtp.Extensions = ["PIPELINING", "8BITMIME"];

        var result = await h.Deliverer.DeliverAsync(
            new DeliveryRequest("xn--bcher-kva.example", "m-idn", "ann@bücher.example", ["user@bücher.example"], Messages.Simple()),
            TestContext.Current.CancellationToken);

        Assert.Equal(OutcomeKind.Delivered, Assert.Single(result.Outcomes).Kind);
        var commands = h.Smtp.CommandLines;
        Assert.Matches(@"^MAIL FROM:<ann@xn--bcher-kva\.example>( SIZE=\d+)?$", commands.Single(c => c.StartsWith("MAIL", StringComparison.Ordinal)));
        Assert.Equal("RCPT TO:<user@xn--bcher-kva.example>", commands.Single(c => c.StartsWith("RCPT", StringComparison.Ordinal)));
    }

    /// <summary>An address already in its A-label form goes out as it is, and needs no SMTPUTF8 even when the peer
    /// offers it (RFC 6531 §3.2: SMTPUTF8 is for addresses that cannot be written in ASCII).</summary>
    [Fact]
    public async Task An_a_label_domain_goes_out_as_given_without_smtputf8()
    {
        string[] records = [DnsmasqServer.Mx("xn--bcher-kva.example", "mx1.example.test", 10), DnsmasqServer.HostRecord("mx1.example.test", "127.0.0.1")];
        await using var h = await DeliveryHarness.StartAsync(records);

        var result = await h.Deliverer.DeliverAsync(
            new DeliveryRequest("xn--bcher-kva.example", "m-idn", "ann@origin.test", ["user@xn--bcher-kva.example"], Messages.Simple()),
            TestContext.Current.CancellationToken);

        Assert.Equal(OutcomeKind.Delivered, Assert.Single(result.Outcomes).Kind);
        var commands = h.Smtp.CommandLines;
        Assert.Matches(@"^MAIL FROM:<ann@origin\.test>( SIZE=\d+)?$", commands.Single(c => c.StartsWith("MAIL", StringComparison.Ordinal)));
        Assert.Equal("RCPT TO:<user@xn--bcher-kva.example>", commands.Single(c => c.StartsWith("RCPT", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_non_ascii_local_part_uses_smtputf8_when_the_peer_offers_it_and_fails_permanently_when_not()
    {
        await using var h = await DeliveryHarness.StartAsync();

        var sent = await h.DeliverAsync(Messages.Simple(), "ann@origin.test", "jörg@bücher.example");
        h.Smtp.Extensions = ["PIPELINING", "8BITMIME"];
        var refused = await h.DeliverAsync(Messages.Simple(), "ann@origin.test", "jörg@bücher.example");

        Assert.Equal(OutcomeKind.Delivered, Assert.Single(sent.Outcomes).Kind);
        var commands = h.Smtp.CommandLines;
        Assert.Contains(" SMTPUTF8", commands.Single(c => c.StartsWith("MAIL", StringComparison.Ordinal)), StringComparison.Ordinal);
        Assert.Equal("RCPT TO:<jörg@bücher.example>", commands.Single(c => c.StartsWith("RCPT", StringComparison.Ordinal)));
        Assert.Equal((OutcomeKind.Permanent, "5.6.7"), (Assert.Single(refused.Outcomes).Kind, refused.Outcomes[0].EnhancedCode));
    }

    [Fact]
    public async Task Dsn_parameters_reach_a_peer_that_offers_dsn_byte_for_byte()
    {
        await using var h = await DeliveryHarness.StartAsync();
        h.Smtp.Extensions = ["PIPELINING", "8BITMIME", "DSN"];
        var dsn = new DsnEnvelope("HDRS", "q1+x y", [new DsnRecipient("bob@example.test", "SUCCESS,DELAY", "rfc822;bob@example.test")]);

        var result = await h.Deliverer.DeliverAsync(
            new DeliveryRequest("example.test", "m-dsn", "ann@origin.test", ["bob@example.test", "carol@example.test"], Messages.Simple(), dsn),
            TestContext.Current.CancellationToken);

        Assert.All(result.Outcomes, o => Assert.Equal(OutcomeKind.Delivered, o.Kind));
        Assert.True(result.RemoteOffersDsn);
        var commands = h.Smtp.CommandLines;
        // RFC 3461 §4: ENVID is xtext ("+" and " " hex-encoded).
        Assert.Matches(@"^MAIL FROM:<ann@origin\.test>( SIZE=\d+)? ENVID=q1\+2Bx\+20y RET=HDRS$", commands.Single(c => c.StartsWith("MAIL", StringComparison.Ordinal)));
        string[] rcpts = [.. commands.Where(c => c.StartsWith("RCPT", StringComparison.Ordinal))];
        Assert.Equal(["RCPT TO:<bob@example.test> NOTIFY=SUCCESS,DELAY ORCPT=rfc822;bob@example.test", "RCPT TO:<carol@example.test>"], rcpts);
    }

    /// <summary>RFC 3461 §5.2.1: the ORCPT goes on as the client sent it, an optional hex escape ("+41" for "A")
    /// included, with or without NOTIFY; a recipient the peer refuses keeps its own reply while the others are delivered.</summary>
    [Fact]
    public async Task Orcpt_reaches_the_peer_as_received_and_refused_recipients_keep_their_replies()
    {
        await using var h = await DeliveryHarness.StartAsync();
        h.Smtp.Extensions = ["8BITMIME", "DSN"];
        h.Smtp.RefuseRecipient("gone@example.test", "550 5.1.1 <gone@example.test>: no such user");
        var dsn = new DsnEnvelope("FULL", "QQ+id", [
            new DsnRecipient("bob@example.test", "FAILURE,DELAY", "rfc822;Original+xtext@example.com", "rfc822;Original+2Bxtext@example.com"),
            new DsnRecipient("gone@example.test", null, "rfc822;AAB@example.com", "rfc822;A+41B@example.com")]);

        var result = await h.Deliverer.DeliverAsync(
            new DeliveryRequest("example.test", "m-orcpt", "ann@origin.test", ["bob@example.test", "gone@example.test"], Messages.Simple(), dsn),
            TestContext.Current.CancellationToken);

        Assert.Equal(OutcomeKind.Delivered, result.Outcomes[0].Kind);
        Assert.Equal((OutcomeKind.Permanent, 550, "5.1.1"), (result.Outcomes[1].Kind, result.Outcomes[1].Code, result.Outcomes[1].EnhancedCode));
        Assert.Equal("<gone@example.test>: no such user", result.Outcomes[1].Text);
        var commands = h.Smtp.CommandLines;
        Assert.Equal("MAIL FROM:<ann@origin.test> ENVID=QQ+2Bid RET=FULL", commands.Single(c => c.StartsWith("MAIL", StringComparison.Ordinal)));
        Assert.Equal(
            ["RCPT TO:<bob@example.test> NOTIFY=FAILURE,DELAY ORCPT=rfc822;Original+2Bxtext@example.com", "RCPT TO:<gone@example.test> ORCPT=rfc822;A+41B@example.com"],
            commands.Where(c => c.StartsWith("RCPT", StringComparison.Ordinal)));
        Assert.Equal(["bob@example.test"], (await h.Smtp.WaitForMessageAsync(Wait)).Recipients);
    }

    [Fact]
    public async Task Bdat_carries_the_exact_bytes_to_a_peer_that_offers_chunking()
    {
        await using var h = await DeliveryHarness.StartAsync();
        h.Smtp.Extensions = ["PIPELINING", "8BITMIME", "CHUNKING", "SIZE 1000000"];
        byte[] body = Encoding.UTF8.GetBytes("From: ann@origin.test\r\nTo: bob@example.test\r\nSubject: bdat\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nGrüße\r\n.\r\n..two dots\r\n");

        var result = await h.DeliverAsync(body);

        Assert.Equal(OutcomeKind.Delivered, Assert.Single(result.Outcomes).Kind);
        var commands = h.Smtp.CommandLines;
        Assert.Contains($"BDAT {body.Length} LAST", commands);
        Assert.DoesNotContain("DATA", commands);
        Assert.Contains("BODY=8BITMIME", commands.Single(c => c.StartsWith("MAIL", StringComparison.Ordinal)), StringComparison.Ordinal);
        Assert.Equal(body, (await h.Smtp.WaitForMessageAsync(Wait)).Data);
    }

    [Fact]
    public async Task An_mx_with_only_an_aaaa_record_is_reached_over_ipv6()
    {
        string[] records = [DnsmasqServer.Mx("example.test", "mx1.example.test", 10), DnsmasqServer.HostRecord("mx1.example.test", "::1")];
        await using var h = await DeliveryHarness.StartAsync(records, bind: IPAddress.IPv6Loopback);

        var result = await h.DeliverAsync(Messages.Simple());

        Assert.Equal(OutcomeKind.Delivered, Assert.Single(result.Outcomes).Kind);
        Assert.Equal("mx1.example.test[::1]", result.RemoteMta);
        Assert.Equal(Messages.Simple(), (await h.Smtp.WaitForMessageAsync(Wait)).Data);
    }
}
