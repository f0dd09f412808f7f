using MailCluster.Queue.Delivery;
using MailCluster.Testing;

namespace MailCluster.Outbound.Tests;

/// <summary>NextHopConnector (one message per connection) against a ScriptedSmtpServer found through a real dnsmasq.</summary>
public sealed class NextHopConnectorTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Delivers_and_reports_the_remote_MTA()
    {
        await using var h = await DeliveryHarness.StartAsync();
        var result = await h.DeliverAsync(Messages.Simple(), "ann@origin.test", "bob@example.test", "carol@example.test");

        Assert.All(result.Outcomes, o => Assert.Equal((OutcomeKind.Delivered, 250, "2.0.0"), (o.Kind, o.Code, o.EnhancedCode)));
        Assert.Equal(["bob@example.test", "carol@example.test"], result.Outcomes.Select(o => o.Recipient));
        Assert.Equal("mx1.example.test[127.0.0.1]", result.RemoteMta);
        Assert.Null(result.TlsProtocol);
        var received = await h.Smtp.WaitForMessageAsync(Wait);
        Assert.Equal("ann@origin.test", received.MailFrom);
        Assert.Equal(["bob@example.test", "carol@example.test"], received.Recipients);
        Assert.Equal(Messages.Simple(), received.Data);
    }

    [Fact]
    public async Task Uses_STARTTLS_when_offered_and_reports_the_protocol()
    {
        await using var h = await DeliveryHarness.StartAsync(startTls: true);
        var result = await h.DeliverAsync(Messages.Simple());
        Assert.Equal(OutcomeKind.Delivered, Assert.Single(result.Outcomes).Kind);
        Assert.Matches("^TLSv1\\.[23]$", result.TlsProtocol);
        Assert.Equal(Messages.Simple(), (await h.Smtp.WaitForMessageAsync(Wait)).Data);
    }

    [Fact]
    public async Task Null_sender_is_sent_as_MAIL_FROM_empty()
    {
        await using var h = await DeliveryHarness.StartAsync();
        string? mailArgument = null;
        h.Smtp.Responder = (stage, ctx) =>
        {
            if (stage == SmtpStage.Mail)
            {
                mailArgument = ctx.Argument;
            }

            return null;
        };
        var result = await h.DeliverAsync(Messages.Simple(), sender: "");

        Assert.Equal(OutcomeKind.Delivered, Assert.Single(result.Outcomes).Kind);
        Assert.Equal("", (await h.Smtp.WaitForMessageAsync(Wait)).MailFrom);
        Assert.StartsWith("FROM:<>", mailArgument, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Refusal_at_end_of_DATA_is_transient_with_the_servers_code()
    {
        await using var h = await DeliveryHarness.StartAsync();
        h.Smtp.RefuseDataEnd(1, "451 4.3.0 try later");
        var result = await h.DeliverAsync(Messages.Simple(), "ann@origin.test", "bob@example.test", "carol@example.test");

        Assert.All(result.Outcomes, o => Assert.Equal((OutcomeKind.Transient, 451, "4.3.0", "try later"), (o.Kind, o.Code, o.EnhancedCode, o.Text)));
        Assert.Single(h.Smtp.DataAttempts);
        Assert.Empty(h.Smtp.Messages);
    }

    [Fact]
    public async Task One_refused_recipient_does_not_fail_the_other()
    {
        await using var h = await DeliveryHarness.StartAsync();
        h.Smtp.RefuseRecipient("nobody@example.test", "550 5.1.1 <nobody@example.test>: no such user");
        var result = await h.DeliverAsync(Messages.Simple(), "ann@origin.test", "bob@example.test", "nobody@example.test");

        Assert.Equal((OutcomeKind.Delivered, 250), (result.Outcomes[0].Kind, result.Outcomes[0].Code));
        Assert.Equal(new RecipientOutcome("nobody@example.test", OutcomeKind.Permanent, 550, "5.1.1", "<nobody@example.test>: no such user"),
            result.Outcomes[1]);
        Assert.Equal(["bob@example.test"], (await h.Smtp.WaitForMessageAsync(Wait)).Recipients);
    }

    [Fact]
    public async Task All_recipients_refused_keeps_each_reply_and_sends_no_DATA()
    {
        await using var h = await DeliveryHarness.StartAsync();
        h.Smtp.RefuseRecipient("a@example.test", "550 5.1.1 unknown");
        h.Smtp.RefuseRecipient("b@example.test", "452 4.2.2 mailbox full");
        var result = await h.DeliverAsync(Messages.Simple(), "ann@origin.test", "a@example.test", "b@example.test");

        Assert.Equal((OutcomeKind.Permanent, 550, "5.1.1"), (result.Outcomes[0].Kind, result.Outcomes[0].Code, result.Outcomes[0].EnhancedCode));
        Assert.Equal((OutcomeKind.Transient, 452, "4.2.2"), (result.Outcomes[1].Kind, result.Outcomes[1].Code, result.Outcomes[1].EnhancedCode));
        Assert.Empty(h.Smtp.DataAttempts);
    }

    [Fact]
    public async Task Refused_MAIL_applies_to_every_recipient()
    {
        await using var h = await DeliveryHarness.StartAsync();
        h.Smtp.ReplyAt(SmtpStage.Mail, "550 5.7.1 sender rejected");
        var result = await h.DeliverAsync(Messages.Simple(), "ann@origin.test", "a@example.test", "b@example.test");
        Assert.All(result.Outcomes, o => Assert.Equal((OutcomeKind.Permanent, 550, "5.7.1"), (o.Kind, o.Code, o.EnhancedCode)));
        Assert.Equal(["a@example.test", "b@example.test"], result.Outcomes.Select(o => o.Recipient));
    }

    [Fact]
    public async Task Primary_MX_down_falls_back_to_the_secondary()
    {
        string[] records =
        [
            DnsmasqServer.Mx("example.test", "primary.example.test", 10),
            DnsmasqServer.Mx("example.test", "secondary.example.test", 20),
            DnsmasqServer.HostRecord("primary.example.test", "127.0.0.2"), // nothing listens on 127.0.0.2
            DnsmasqServer.HostRecord("secondary.example.test", "127.0.0.1"),
        ];
        await using var h = await DeliveryHarness.StartAsync(records);
        var result = await h.DeliverAsync(Messages.Simple());

        Assert.Equal(OutcomeKind.Delivered, Assert.Single(result.Outcomes).Kind);
        Assert.Equal("secondary.example.test[127.0.0.1]", result.RemoteMta);
        Assert.Equal(1, h.Smtp.ConnectionCount);
    }

    [Fact]
    public async Task Nothing_listening_is_transient_4_4_1_for_every_recipient()
    {
        await using var h = await DeliveryHarness.StartAsync(port: FreePort.Tcp());
        var result = await h.DeliverAsync(Messages.Simple(), "ann@origin.test", "a@example.test", "b@example.test");

        Assert.All(result.Outcomes, o => Assert.Equal((OutcomeKind.Transient, 0, "4.4.1"), (o.Kind, o.Code, o.EnhancedCode)));
        Assert.Contains("mx1.example.test[127.0.0.1]", result.Outcomes[0].Text, StringComparison.Ordinal);
        Assert.Null(result.RemoteMta);
    }

    [Fact]
    public async Task Connection_dropped_during_the_transaction_is_transient_4_4_2()
    {
        await using var h = await DeliveryHarness.StartAsync();
        h.Smtp.HangUpAt(SmtpStage.DataEnd);
        var result = await h.DeliverAsync(Messages.Simple());
        Assert.Equal((OutcomeKind.Transient, "4.4.2"), (result.Outcomes[0].Kind, result.Outcomes[0].EnhancedCode));
    }

    [Fact]
    public async Task Greeting_refusal_moves_on_and_names_the_reply()
    {
        await using var h = await DeliveryHarness.StartAsync();
        h.Smtp.ReplyAt(SmtpStage.Connect, "554 5.3.2 no service");
        var result = await h.DeliverAsync(Messages.Simple());
        Assert.Equal((OutcomeKind.Transient, "4.4.2"), (result.Outcomes[0].Kind, result.Outcomes[0].EnhancedCode));
        Assert.Contains("554", result.Outcomes[0].Text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("nullmx.test", OutcomeKind.Permanent, 556, "5.1.10")]
    [InlineData("missing.test", OutcomeKind.Permanent, 0, "5.1.2")]
    public async Task DNS_verdicts_apply_to_every_recipient(string domain, OutcomeKind kind, int code, string enhanced)
    {
        await using var h = await DeliveryHarness.StartAsync([.. DeliveryHarness.DefaultRecords, DnsmasqServer.NullMx("nullmx.test")]);
        var result = await h.Deliverer.DeliverAsync(
            new DeliveryRequest(domain, "m", "ann@origin.test", [$"a@{domain}", $"b@{domain}"], Messages.Simple()),
            TestContext.Current.CancellationToken);
        Assert.All(result.Outcomes, o => Assert.Equal((kind, code, enhanced), (o.Kind, o.Code, o.EnhancedCode)));
        Assert.Equal(0, h.Smtp.ConnectionCount);
    }

    [Fact]
    public async Task Cancellation_is_the_only_exception()
    {
        await using var h = await DeliveryHarness.StartAsync();
        using var cts = new CancellationTokenSource();
        // Cancelled mid-transaction: the client is waiting for the MAIL reply when the token fires.
        h.Smtp.Responder = (stage, _) =>
        {
            if (stage == SmtpStage.Mail)
            {
                cts.Cancel();
                Thread.Sleep(200);
            }

            return null;
        };
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => h.Deliverer.DeliverAsync(
            new DeliveryRequest("example.test", "m", "", ["bob@example.test"], Messages.Simple()), cts.Token));
    }
}
