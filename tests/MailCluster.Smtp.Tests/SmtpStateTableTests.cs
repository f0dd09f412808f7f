using static MailCluster.Smtp.SessionState;
using static MailCluster.Smtp.SmtpVerb;

namespace MailCluster.Smtp.Tests;

public class SmtpStateTableTests
{
    /// <summary>The whole table, spelled out independently: legal → next state, illegal → the 503 text.</summary>
    private static readonly Dictionary<SmtpVerb, string[]> Expected = new()
    {
        //                Connected            Greeted              MailFrom                 RcptTo                   Data     Quit
        [Helo] = ["Greeted", "Greeted", "Greeted", "Greeted", "!data", "!quit"],
        [Ehlo] = ["Greeted", "Greeted", "Greeted", "Greeted", "!data", "!quit"],
        [Mail] = ["!Send HELO/EHLO first", "MailFrom", "!Nested MAIL command", "!Nested MAIL command", "!data", "!quit"],
        [Rcpt] = ["!Send HELO/EHLO first", "!Need MAIL command", "RcptTo", "RcptTo", "!data", "!quit"],
        [SmtpVerb.Data] = ["!Send HELO/EHLO first", "!Need MAIL command", "!Need RCPT command", "Data", "!data", "!quit"],
        [Bdat] = ["!Send HELO/EHLO first", "!Need MAIL command", "!Need RCPT command", "RcptTo", "!data", "!quit"],
        [Rset] = ["Connected", "Greeted", "Greeted", "Greeted", "!data", "!quit"],
        [Noop] = ["Connected", "Greeted", "MailFrom", "RcptTo", "!data", "!quit"],
        [SmtpVerb.Quit] = ["Quit", "Quit", "Quit", "Quit", "!data", "!quit"],
        [Vrfy] = ["Connected", "Greeted", "MailFrom", "RcptTo", "!data", "!quit"],
        [Expn] = ["Connected", "Greeted", "MailFrom", "RcptTo", "!data", "!quit"],
        [Help] = ["Connected", "Greeted", "MailFrom", "RcptTo", "!data", "!quit"],
        [StartTls] = ["!Send HELO/EHLO first", "Connected", "!Mail transaction in progress", "!Mail transaction in progress", "!data", "!quit"],
        [Auth] = ["!Send HELO/EHLO first", "Greeted", "!Mail transaction in progress", "!Mail transaction in progress", "!data", "!quit"],
    };

    public static TheoryData<SessionState, SmtpVerb> EveryPair()
    {
        var data = new TheoryData<SessionState, SmtpVerb>();
        foreach (var state in Enum.GetValues<SessionState>())
        {
            foreach (var verb in Enum.GetValues<SmtpVerb>())
            {
                data.Add(state, verb);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(EveryPair))]
    public void Every_state_and_verb(SessionState state, SmtpVerb verb)
    {
        var expected = Expected[verb][(int)state];
        var error = SmtpStateTable.Check(state, verb);
        if (expected.StartsWith('!'))
        {
            Assert.NotNull(error);
            Assert.Equal(503, error.Value.Code);
            Assert.Equal("5.5.1", error.Value.EnhancedCode);
            if (expected is not "!data" and not "!quit")
            {
                Assert.Equal(expected[1..], error.Value.Text);
            }

            Assert.Equal(state, SmtpStateTable.Next(state, verb)); // illegal: no move
        }
        else
        {
            Assert.Null(error);
            Assert.Equal(Enum.Parse<SessionState>(expected), SmtpStateTable.Next(state, verb));
        }
    }

    [Fact]
    public void Table_covers_every_verb() => Assert.Equal(Enum.GetValues<SmtpVerb>().Length, Expected.Count);

    [Fact]
    public void Bdat_last_ends_the_transaction()
    {
        Assert.Equal(RcptTo, SmtpStateTable.Next(RcptTo, new BdatCommand(100, false)));
        Assert.Equal(Greeted, SmtpStateTable.Next(RcptTo, new BdatCommand(100, true)));
        Assert.Equal(MailFrom, SmtpStateTable.Next(MailFrom, new BdatCommand(100, true))); // illegal: no move
        Assert.Equal(MailFrom, SmtpStateTable.Next(Greeted, new MailCommand(SmtpPath.Null, new Dictionary<string, string?>())));
    }

    [Fact]
    public void A_whole_session_walks_the_table()
    {
        var state = Connected;
        foreach (var verb in new[] { Ehlo, StartTls, Ehlo, Auth, Mail, Rcpt, Rcpt, SmtpVerb.Data })
        {
            Assert.Null(SmtpStateTable.Check(state, verb));
            state = SmtpStateTable.Next(state, verb);
        }

        Assert.Equal(SessionState.Data, state);
        state = SmtpStateTable.AfterMessage(state);
        Assert.Equal(Greeted, state);
        Assert.Equal(SessionState.Quit, SmtpStateTable.Next(state, SmtpVerb.Quit));
    }

    [Fact]
    public void Out_of_range_values_do_not_throw()
    {
        Assert.NotNull(SmtpStateTable.Check((SessionState)99, Helo));
        Assert.NotNull(SmtpStateTable.Check(Greeted, (SmtpVerb)99));
        Assert.Equal((SessionState)99, SmtpStateTable.Next((SessionState)99, Helo));
    }

    [Theory]
    [MemberData(nameof(EveryPair))]
    public void Facts_only_guard_STARTTLS_and_AUTH_where_the_state_allows_them(SessionState state, SmtpVerb verb)
    {
        var byState = SmtpStateTable.Check(state, verb);
        var guarded = byState is null && verb is StartTls or Auth;

        Assert.Equal(byState, SmtpStateTable.Check(state, verb, SessionFacts.None));
        if (!guarded)
        {
            Assert.Equal(byState, SmtpStateTable.Check(state, verb, SessionFacts.Tls | SessionFacts.Authenticated));
        }
    }

    [Fact]
    public void TLS_once_and_AUTH_once()
    {
        Assert.Equal("TLS already active", SmtpStateTable.Check(Greeted, StartTls, SessionFacts.Tls)?.Text);
        Assert.Null(SmtpStateTable.Check(Greeted, StartTls, SessionFacts.Authenticated));
        Assert.Equal("Already authenticated", SmtpStateTable.Check(Greeted, Auth, SessionFacts.Tls | SessionFacts.Authenticated)?.Text);
        Assert.Null(SmtpStateTable.Check(Greeted, Auth, SessionFacts.Tls));
        Assert.Equal((503, "5.5.1"), (SmtpStateTable.Check(Greeted, Auth, SessionFacts.Authenticated)!.Value.Code, SmtpStateTable.Check(Greeted, Auth, SessionFacts.Authenticated)!.Value.EnhancedCode));
    }

    [Fact]
    public void The_state_speaks_before_the_facts()
    {
        Assert.Equal(SmtpReplies.SendHeloFirst, SmtpStateTable.Check(Connected, StartTls, SessionFacts.Tls));
        Assert.Equal(SmtpReplies.TransactionInProgress, SmtpStateTable.Check(MailFrom, Auth, SessionFacts.Authenticated));
    }
}
