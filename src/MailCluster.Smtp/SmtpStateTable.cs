namespace MailCluster.Smtp;

/// <summary>Where a session stands in RFC 5321 §4.1.4 sequencing.</summary>
public enum SessionState
{
    /// <summary>Before HELO/EHLO, and again after a successful STARTTLS (RFC 3207 §4.2).</summary>
    Connected,

    /// <summary>HELO/EHLO accepted, no mail transaction open.</summary>
    Greeted,

    /// <summary>MAIL accepted, no recipient yet.</summary>
    MailFrom,

    /// <summary>At least one RCPT accepted (also between BDAT chunks).</summary>
    RcptTo,

    /// <summary>354 sent: the connection carries message data, not commands.</summary>
    Data,

    /// <summary>QUIT answered: nothing more is read.</summary>
    Quit,
}

/// <summary>What a session has established that makes a verb out of sequence whatever the state (see
/// <see cref="SmtpStateTable.Check(SessionState, SmtpVerb, SessionFacts)"/>).</summary>
[Flags]
public enum SessionFacts
{
    None = 0,

    /// <summary>TLS is active (STARTTLS completed, or implicit TLS).</summary>
    Tls = 1,

    /// <summary>AUTH succeeded.</summary>
    Authenticated = 2,
}

/// <summary>
/// The sequencing table (STYLE habit 2): one row per verb, one cell per state, saying whether the verb is legal there
/// and which state a successful command leads to; and two guards on facts rather than states (STARTTLS once, AUTH
/// once). Every 503 the edge sends comes from here and nowhere else.
/// <para>Sources: RFC 5321 §4.1.4 (NOOP, HELP, EXPN, VRFY and RSET are legal at any time, even before EHLO; HELO/EHLO
/// also reset a transaction, §4.1.4 ¶4), RFC 3030 §2 (BDAT chunks after RCPT; LAST ends the transaction),
/// RFC 3207 §4.2 (after STARTTLS the session starts over: EHLO again; no second STARTTLS), RFC 4954 §4 (no AUTH
/// during a transaction, no AUTH after a successful one).
/// Whether STARTTLS/AUTH are offered at all (530, 538, 504) is the edge's policy; this table only sequences.</para>
/// </summary>
public static class SmtpStateTable
{
    // A cell: legal and leading to Next (null = state unchanged), or illegal with Error.
    private readonly record struct Cell(SessionState? Next, SmtpReply? Error)
    {
        public bool IsLegal => Error is null;
    }

    private static readonly Cell Stay = new(null, null);
    private static readonly Cell ToConnected = new(SessionState.Connected, null);
    private static readonly Cell ToGreeted = new(SessionState.Greeted, null);
    private static readonly Cell ToMailFrom = new(SessionState.MailFrom, null);
    private static readonly Cell ToRcptTo = new(SessionState.RcptTo, null);
    private static readonly Cell ToData = new(SessionState.Data, null);
    private static readonly Cell ToQuit = new(SessionState.Quit, null);
    private static readonly Cell HeloFirst = new(null, SmtpReplies.SendHeloFirst);
    private static readonly Cell NeedMail = new(null, SmtpReplies.NeedMailFirst);
    private static readonly Cell NeedRcpt = new(null, SmtpReplies.NeedRcptFirst);
    private static readonly Cell Nested = new(null, SmtpReplies.NestedMail);
    private static readonly Cell InTransaction = new(null, SmtpReplies.TransactionInProgress);
    private static readonly Cell InData = new(null, SmtpReplies.BadSequence("Message data expected"));
    private static readonly Cell Closed = new(null, SmtpReplies.BadSequence("Session is closing"));

    /// <summary>Rows in <see cref="SmtpVerb"/> order; columns in <see cref="SessionState"/> order.</summary>
    private static readonly Cell[][] Table =
    [
        //              Connected     Greeted      MailFrom        RcptTo          Data     Quit
        /* HELO     */ [ToGreeted,   ToGreeted,   ToGreeted,      ToGreeted,      InData,  Closed],
        /* EHLO     */ [ToGreeted,   ToGreeted,   ToGreeted,      ToGreeted,      InData,  Closed],
        /* MAIL     */ [HeloFirst,   ToMailFrom,  Nested,         Nested,         InData,  Closed],
        /* RCPT     */ [HeloFirst,   NeedMail,    ToRcptTo,       ToRcptTo,       InData,  Closed],
        /* DATA     */ [HeloFirst,   NeedMail,    NeedRcpt,       ToData,         InData,  Closed],
        /* BDAT     */ [HeloFirst,   NeedMail,    NeedRcpt,       ToRcptTo,       InData,  Closed],
        /* RSET     */ [Stay,        ToGreeted,   ToGreeted,      ToGreeted,      InData,  Closed],
        /* NOOP     */ [Stay,        Stay,        Stay,           Stay,           InData,  Closed],
        /* QUIT     */ [ToQuit,      ToQuit,      ToQuit,         ToQuit,         InData,  Closed],
        /* VRFY     */ [Stay,        Stay,        Stay,           Stay,           InData,  Closed],
        /* EXPN     */ [Stay,        Stay,        Stay,           Stay,           InData,  Closed],
        /* HELP     */ [Stay,        Stay,        Stay,           Stay,           InData,  Closed],
        /* STARTTLS */ [HeloFirst,   ToConnected, InTransaction,  InTransaction,  InData,  Closed],
        /* AUTH     */ [HeloFirst,   Stay,        InTransaction,  InTransaction,  InData,  Closed],
    ];

    /// <summary>The verbs a fact makes out of sequence in every state where the table allows them.</summary>
    private static readonly (SmtpVerb Verb, SessionFacts Fact, SmtpReply Error)[] Guards =
    [
        (SmtpVerb.StartTls, SessionFacts.Tls, SmtpReplies.BadSequence("TLS already active")),
        (SmtpVerb.Auth, SessionFacts.Authenticated, SmtpReplies.BadSequence("Already authenticated")),
    ];

    /// <summary>Null when <paramref name="verb"/> is legal in <paramref name="state"/>, else the 503 5.5.1 reply to send.</summary>
    public static SmtpReply? Check(SessionState state, SmtpVerb verb) => CellOf(state, verb).Error;

    /// <summary>As <see cref="Check(SessionState, SmtpVerb)"/>, then the guards on <paramref name="facts"/>: the state's
    /// 503 first (e.g. STARTTLS before EHLO is "Send HELO/EHLO first" even inside TLS), then the fact's.</summary>
    public static SmtpReply? Check(SessionState state, SmtpVerb verb, SessionFacts facts)
    {
        if (CellOf(state, verb).Error is { } error)
        {
            return error;
        }

        foreach (var (guarded, fact, guardError) in Guards)
        {
            if (guarded == verb && (facts & fact) != 0)
            {
                return guardError;
            }
        }

        return null;
    }

    /// <summary>The state after a SUCCESSFUL <paramref name="verb"/> (the edge may still refuse a legal command, e.g.
    /// a rejected recipient: then the state does not change). An illegal pair returns <paramref name="state"/>.
    /// BDAT gives RcptTo: use <see cref="Next(SessionState, SmtpCommand)"/> so that BDAT LAST ends the transaction.</summary>
    public static SessionState Next(SessionState state, SmtpVerb verb)
    {
        var cell = CellOf(state, verb);
        return cell.IsLegal ? cell.Next ?? state : state;
    }

    /// <summary>As <see cref="Next(SessionState, SmtpVerb)"/>, and a successful BDAT LAST leads to Greeted
    /// (the transaction is over, RFC 3030 §2).</summary>
    public static SessionState Next(SessionState state, SmtpCommand command)
    {
        ArgumentNullException.ThrowIfNull(command);
        var next = Next(state, command.Verb);
        return command is BdatCommand { Last: true } && Check(state, SmtpVerb.Bdat) is null ? SessionState.Greeted : next;
    }

    /// <summary>The state once the message after DATA has been answered (queued or refused): Greeted, ready for
    /// the next transaction (RFC 5321 §4.1.1.4).</summary>
    public static SessionState AfterMessage(SessionState state) => state == SessionState.Data ? SessionState.Greeted : state;

    private static Cell CellOf(SessionState state, SmtpVerb verb) =>
        (uint)verb < (uint)Table.Length && (uint)state < (uint)Table[(int)verb].Length
            ? Table[(int)verb][(int)state]
            : new Cell(null, SmtpReplies.UnknownCommand);
}
