using MailCluster.Queue.Delivery;
using MailCluster.Testing;

namespace MailCluster.Outbound.Tests;

/// <summary>IDeliveryConnector/IDeliveryConnection against a ScriptedSmtpServer found through a real dnsmasq:
/// reuse, 452 splitting, TLS policies, private destinations, stage timeouts, DSN capability.</summary>
public sealed class ConnectionTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Several_messages_share_one_connection_with_RSET_between()
    {
        await using var h = await DeliveryHarness.StartAsync();
        var commands = new List<string>();
        var connect = await h.Connector.ConnectAsync("example.test", Ct);
        await using (var connection = Assert.IsType<IDeliveryConnection>(connect.Connection, exactMatch: false))
        {
            for (int i = 0; i < 3; i++)
            {
                var result = await connection.SendAsync(DeliveryHarness.Request(Messages.Simple($"m{i}")), Ct);
                Assert.Equal(OutcomeKind.Delivered, Assert.Single(result.Outcomes).Kind);
            }

            Assert.True(connection.IsUsable);
        }

        var received = await h.Smtp.WaitForMessagesAsync(3, Wait);
        Assert.All(received, m => Assert.Equal(1, m.ConnectionId));
        Assert.Equal(1, h.Smtp.ConnectionCount);
    }

    /// <summary>RFC 2920 §3.1: to a PIPELINING peer the RSET of a reused session goes in one write with MAIL and RCPT
    /// (one round trip fewer per message); DATA still waits for their replies.</summary>
    [Fact]
    public async Task A_reused_connection_pipelines_RSET_with_MAIL_and_RCPT()
    {
        await using var h = await DeliveryHarness.StartAsync();
        await SendOverOneConnectionAsync(h, 2);

        var groups = h.Smtp.CommandGroups.Select(g => string.Join(" | ", g.Select(Verb))).ToList();
        Assert.Equal(["EHLO", "MAIL | RCPT", "DATA", "RSET | MAIL | RCPT", "DATA", "QUIT"], groups);
        Assert.Equal(2, (await h.Smtp.WaitForMessagesAsync(2, Wait)).Count);
    }

    [Fact]
    public async Task Without_PIPELINING_RSET_is_answered_before_MAIL_is_sent()
    {
        await using var h = await DeliveryHarness.StartAsync();
        h.Smtp.Extensions = ["8BITMIME", "ENHANCEDSTATUSCODES"];
        await SendOverOneConnectionAsync(h, 2);

        var groups = h.Smtp.CommandGroups.Select(g => string.Join(" | ", g.Select(Verb))).ToList();
        Assert.Equal(["EHLO", "MAIL", "RCPT", "DATA", "RSET", "MAIL", "RCPT", "DATA", "QUIT"], groups);
    }

    /// <summary>A refused RSET means the session cannot be trusted: the message is retried later, the connection is
    /// dropped, and no DATA follows the MAIL and RCPT pipelined behind the RSET.</summary>
    [Fact]
    public async Task A_refused_pipelined_RSET_breaks_the_connection_before_DATA()
    {
        await using var h = await DeliveryHarness.StartAsync();
        h.Smtp.ReplyAt(SmtpStage.Rset, "500 5.5.1 confused");
        var connect = await h.Connector.ConnectAsync("example.test", Ct);
        await using var connection = Assert.IsType<IDeliveryConnection>(connect.Connection, exactMatch: false);

        var first = await connection.SendAsync(DeliveryHarness.Request(Messages.Simple("m0")), Ct);
        var second = await connection.SendAsync(DeliveryHarness.Request(Messages.Simple("m1")), Ct);

        Assert.Equal(OutcomeKind.Delivered, Assert.Single(first.Outcomes).Kind);
        var refused = Assert.Single(second.Outcomes);
        Assert.Equal((OutcomeKind.Transient, "4.4.2"), (refused.Kind, refused.EnhancedCode));
        Assert.Contains("RSET refused", refused.Text, StringComparison.Ordinal);
        Assert.False(connection.IsUsable);
        Assert.Single(h.Smtp.DataAttempts);
        Assert.Contains("RSET | MAIL | RCPT", h.Smtp.CommandGroups.Select(g => string.Join(" | ", g.Select(Verb))));
    }

    private static async Task SendOverOneConnectionAsync(DeliveryHarness h, int messages)
    {
        var connect = await h.Connector.ConnectAsync("example.test", Ct);
        await using var connection = Assert.IsType<IDeliveryConnection>(connect.Connection, exactMatch: false);
        for (int i = 0; i < messages; i++)
        {
            var result = await connection.SendAsync(DeliveryHarness.Request(Messages.Simple($"m{i}")), Ct);
            Assert.Equal(OutcomeKind.Delivered, Assert.Single(result.Outcomes).Kind);
        }
    }

    private static string Verb(string line) => line.Split(' ')[0];

    [Fact]
    public async Task Recipients_refused_with_452_are_sent_in_a_further_transaction()
    {
        await using var h = await DeliveryHarness.StartAsync();
        // At most two recipients per transaction, as a server with a low recipient limit answers (RFC 5321 §4.5.3.1.10).
        h.Smtp.AddRule((stage, ctx) => stage == SmtpStage.Rcpt && ctx.Recipients.Count >= 2 ? "452 4.5.3 too many recipients" : null);

        var result = await h.DeliverAsync(Messages.Simple(), "ann@origin.test", "a@example.test", "b@example.test", "c@example.test", "d@example.test", "e@example.test");

        Assert.All(result.Outcomes, o => Assert.Equal(OutcomeKind.Delivered, o.Kind));
        var received = await h.Smtp.WaitForMessagesAsync(3, Wait);
        Assert.Equal([2, 2, 1], received.Select(m => m.Recipients.Count));
        Assert.Equal(["a", "b", "c", "d", "e"], received.SelectMany(m => m.Recipients).Select(r => r[..1]));
        Assert.Equal(1, h.Smtp.ConnectionCount);
    }

    [Fact]
    public async Task Required_TLS_without_STARTTLS_never_sends_MAIL()
    {
        await using var h = await DeliveryHarness.StartAsync(configure: o => o.Domains.Add(new DomainOutboundOptions { Name = "example.test", TlsPolicy = "required" }));
        var mails = 0;
        h.Smtp.Responder = (stage, _) =>
        {
            if (stage == SmtpStage.Mail)
            {
                Interlocked.Increment(ref mails);
            }

            return null;
        };

        var connect = await h.Connector.ConnectAsync("example.test", Ct);

        Assert.Null(connect.Connection);
        Assert.Equal((OutcomeKind.Transient, true), (connect.Failure!.Kind, connect.Failure.EveryHostUnreachable));
        Assert.Contains("TLS policy Required", connect.Failure.Text, StringComparison.Ordinal);
        Assert.Equal(0, mails);
    }

    [Fact]
    public async Task Verify_refuses_a_self_signed_certificate_and_required_accepts_it()
    {
        await using var verify = await DeliveryHarness.StartAsync(startTls: true, configure: o => o.TlsPolicy = "verify");
        var refused = await verify.DeliverAsync(Messages.Simple());
        Assert.Equal((OutcomeKind.Transient, "4.4.2"), (refused.Outcomes[0].Kind, refused.Outcomes[0].EnhancedCode));
        Assert.Empty(verify.Smtp.DataAttempts);

        await using var required = await DeliveryHarness.StartAsync(startTls: true, configure: o => o.TlsPolicy = "required");
        var delivered = await required.DeliverAsync(Messages.Simple());
        Assert.Equal(OutcomeKind.Delivered, delivered.Outcomes[0].Kind);
        Assert.Matches("^TLSv1\\.[23]$", delivered.TlsProtocol);
    }

    [Fact]
    public async Task Loopback_MX_is_refused_unless_private_destinations_are_allowed()
    {
        await using var h = await DeliveryHarness.StartAsync(configure: o => o.AllowPrivateDestinations = false);
        var result = await h.DeliverAsync(Messages.Simple());
        var outcome = Assert.Single(result.Outcomes);
        Assert.Equal((OutcomeKind.Permanent, "5.4.4"), (outcome.Kind, outcome.EnhancedCode));
        Assert.Equal(0, h.Smtp.ConnectionCount);
    }

    [Fact]
    public async Task A_greeting_slower_than_its_timeout_moves_on()
    {
        await using var h = await DeliveryHarness.StartAsync(configure: o => o.GreetingTimeoutSeconds = 1);
        h.Smtp.Responder = (stage, _) =>
        {
            if (stage == SmtpStage.Connect)
            {
                Thread.Sleep(2500);
            }

            return null;
        };

        var connect = await h.Connector.ConnectAsync("example.test", Ct);

        Assert.Null(connect.Connection);
        Assert.Contains("timed out", connect.Failure!.Text, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_slow_end_of_data_reply_breaks_the_transaction_transiently()
    {
        await using var h = await DeliveryHarness.StartAsync(configure: o => o.DataEndTimeoutSeconds = 1);
        h.Smtp.Responder = (stage, _) =>
        {
            if (stage == SmtpStage.DataEnd)
            {
                Thread.Sleep(2500);
            }

            return null;
        };

        var result = await h.DeliverAsync(Messages.Simple());

        var outcome = Assert.Single(result.Outcomes);
        Assert.Equal((OutcomeKind.Transient, "4.4.2"), (outcome.Kind, outcome.EnhancedCode));
    }

    [Fact]
    public async Task A_smarthost_takes_the_mail_without_MX_lookup()
    {
        // example.test has no records at all in the second harness's DNS, and its MX port (1) goes nowhere.
        await using var h = await DeliveryHarness.StartAsync();
        await using var routed = await DeliveryHarness.StartAsync(records: [DnsmasqServer.HostRecord("unrelated.test", "127.0.0.1")], port: 1,
            configure: o => o.Smarthost = $"smtp:127.0.0.1:{h.Smtp.Port}");
        var result = await routed.DeliverAsync(Messages.Simple());
        Assert.Equal(OutcomeKind.Delivered, Assert.Single(result.Outcomes).Kind);
        Assert.Single(await h.Smtp.WaitForMessagesAsync(1, Wait));
    }
}
