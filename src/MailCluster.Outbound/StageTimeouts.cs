namespace MailCluster.Outbound;

/// <summary>RFC 5321 §4.5.3.2 timeouts in milliseconds, one per stage of a client session (SMTP and LMTP).</summary>
/// <param name="Command">Commands outside a stage of §4.5.3.2: AUTH, RSET between transactions and QUIT.</param>
/// <param name="Greeting">The greeting, EHLO, STARTTLS and the TLS handshake.</param>
internal sealed record StageTimeouts(int Command, int Greeting, int Mail, int Rcpt, int DataStart, int DataBlock, int DataEnd)
{
    public static StageTimeouts From(OutboundOptions o)
    {
        ArgumentNullException.ThrowIfNull(o);
        static int Ms(int seconds) => (int)Math.Min(int.MaxValue, seconds * 1000L);
        return new StageTimeouts(Ms(o.CommandTimeoutSeconds),
            Ms(o.GreetingTimeoutSeconds), Ms(o.MailTimeoutSeconds), Ms(o.RcptTimeoutSeconds),
            Ms(o.DataStartTimeoutSeconds), Ms(o.DataBlockTimeoutSeconds), Ms(o.DataEndTimeoutSeconds));
    }
}
