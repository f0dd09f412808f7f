using MailCluster.Edge.Session;
using MailCluster.Smtp;
using Xunit;

namespace MailCluster.Edge.Tests.Session;

/// <summary>The session rules that live in the pure session, not in the byte layer: the bad-command count and its
/// 421, the message abandoned on RSET/HELO/EHLO, and the TLS/AUTH guards.</summary>
public class SessionRulesTests
{
    [Fact]
    public async Task Command_errors_end_the_session_with_421_once_past_the_limit()
    {
        var h = new SessionHarness(maxBadCommands: 2);
        await h.SendAsync("EHLO client.test");

        var unknown = await h.SendAsync("FROB");
        var outOfSequence = await h.SendAsync("RCPT TO:<bob@example.test>");
        var third = await h.SendAsync("FROB");

        Assert.Equal((500, SessionAction.None), (unknown.Reply.Code, unknown.Action));
        Assert.Equal((503, SessionAction.None), (outOfSequence.Reply.Code, outOfSequence.Action));
        Assert.Equal(SmtpReplies.TooManyErrors, third.Reply);
        Assert.Equal(SessionAction.Close, third.Action);
    }

    [Fact]
    public async Task Unreadable_lines_count_as_bad_commands()
    {
        var h = new SessionHarness(maxBadCommands: 1);

        var first = await h.Session.HandleAsync(new SessionUnreadableCommand(SmtpReplies.LineTooLong));
        var second = await h.Session.HandleAsync(new SessionUnreadableCommand(SmtpReplies.LineTooLong));

        Assert.Equal((SmtpReplies.LineTooLong, SessionAction.None), (first.Reply, first.Action));
        Assert.Equal((SmtpReplies.TooManyErrors, SessionAction.Close), (second.Reply, second.Action));
    }

    [Fact]
    public async Task Policy_refusals_are_not_command_errors()
    {
        var h = new SessionHarness(maxBadCommands: 1);
        await h.SendAsync("EHLO client.test");
        await h.SendAsync("MAIL FROM:<ann@origin.test>");

        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(554, (await h.SendAsync("RCPT TO:<carol@elsewhere.test>")).Reply.Code); // relay denied
        }

        Assert.Equal(500, (await h.SendAsync("FROB")).Reply.Code);
        Assert.Equal(421, (await h.SendAsync("FROB")).Reply.Code);
    }

    [Fact]
    public async Task A_refused_BDAT_is_not_counted()
    {
        var h = new SessionHarness(maxBadCommands: 0);
        await h.SendAsync("EHLO client.test");

        var bdat = await h.SendAsync("BDAT 10 LAST");

        Assert.Equal((SmtpReplies.NeedMailFirst, SessionAction.None), (bdat.Reply, bdat.Action));
        Assert.Equal(421, (await h.SendAsync("FROB")).Reply.Code);
    }

    [Theory]
    [InlineData("RSET")]
    [InlineData("HELO client.test")]
    [InlineData("EHLO client.test")]
    public async Task A_reset_abandons_the_message_read_so_far(string command)
    {
        var h = new SessionHarness();
        await h.SendAsync("EHLO client.test");
        await h.SendAsync("MAIL FROM:<ann@origin.test>");
        await h.SendAsync("RCPT TO:<bob@example.test>");
        Assert.Equal(SessionAction.ReadChunk, (await h.SendAsync("BDAT 5")).Action);
        Assert.Equal(250, (await h.Session.HandleAsync(new SessionChunk(5))).Reply.Code);

        var reset = await h.SendAsync(command);
        var nextChunk = await h.SendAsync("BDAT 5 LAST");

        Assert.Equal((250, SessionAction.AbandonMessage), (reset.Reply.Code, reset.Action));
        Assert.Equal(SmtpReplies.NeedMailFirst, nextChunk.Reply); // the transaction went with the text
    }

    [Fact]
    public async Task A_refused_RSET_abandons_nothing()
    {
        var h = new SessionHarness();
        await h.SendAsync("QUIT");

        var reset = await h.SendAsync("RSET");

        Assert.Equal((503, SessionAction.None), (reset.Reply.Code, reset.Action));
    }

    [Fact]
    public async Task STARTTLS_inside_TLS_is_out_of_sequence()
    {
        var h = new SessionHarness();
        await h.SendAsync("EHLO client.test");
        await h.StartTlsAsync();
        await h.SendAsync("EHLO client.test");

        var again = await h.SendAsync("STARTTLS");

        Assert.Equal(SmtpReplies.BadSequence("TLS already active"), again.Reply);
        Assert.Equal(SmtpStateTable.Check(SessionState.Greeted, SmtpVerb.StartTls, SessionFacts.Tls), again.Reply);
    }

    [Fact]
    public async Task Before_EHLO_the_state_speaks_first_even_inside_TLS()
    {
        var h = new SessionHarness(ListenerRole.Submissions, implicitTls: true);

        Assert.Equal(SmtpReplies.SendHeloFirst, (await h.SendAsync("STARTTLS")).Reply);
    }

    [Fact]
    public async Task A_second_AUTH_is_out_of_sequence()
    {
        var h = new SessionHarness(ListenerRole.Submissions, implicitTls: true);
        await h.SendAsync("EHLO client.test");
        await h.AuthenticateAsync();

        var again = await h.SendAsync("AUTH PLAIN");

        Assert.Equal(SmtpReplies.BadSequence("Already authenticated"), again.Reply);
    }

    [Fact]
    public async Task AUTH_outside_TLS_is_refused_by_policy_not_sequencing()
    {
        var h = new SessionHarness(ListenerRole.Submission);
        await h.SendAsync("EHLO client.test");

        Assert.Equal(SmtpReplies.EncryptionRequired, (await h.SendAsync("AUTH PLAIN")).Reply);
    }

    [Fact]
    public async Task Submission_wants_TLS_then_AUTH_before_MAIL()
    {
        var h = new SessionHarness(ListenerRole.Submission);
        await h.SendAsync("EHLO client.test");

        var clear = await h.SendAsync("MAIL FROM:<ann@origin.test>");
        await h.StartTlsAsync();
        await h.SendAsync("EHLO client.test");
        var anonymous = await h.SendAsync("MAIL FROM:<ann@origin.test>");
        await h.AuthenticateAsync();
        var authenticated = await h.SendAsync("MAIL FROM:<ann@origin.test>");

        Assert.Equal(SmtpReplies.StartTlsFirst, clear.Reply);
        Assert.Equal(SmtpReplies.AuthRequired, anonymous.Reply);
        Assert.Equal(SmtpReplies.SenderOk, authenticated.Reply);
    }

    [Fact]
    public async Task A_finished_message_is_accepted_and_the_session_is_ready_for_the_next()
    {
        var h = new SessionHarness();
        await h.SendAsync("EHLO client.test");
        await h.SendAsync("MAIL FROM:<ann@origin.test>");
        await h.SendAsync("RCPT TO:<bob@example.test>");
        Assert.Equal(SessionAction.ReadData, (await h.SendAsync("DATA")).Action);

        var queued = await h.Session.OnDataAsync(SessionHarness.Message());

        Assert.Equal(250, queued.Reply.Code);
        Assert.Equal(["bob@example.test"], Assert.Single(h.Acceptor.Accepted));
        Assert.Equal(SmtpReplies.SenderOk, (await h.SendAsync("MAIL FROM:<ann@origin.test>")).Reply);
    }
}
