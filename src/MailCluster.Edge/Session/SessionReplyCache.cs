using System.Globalization;
using MailCluster.Edge.Auth;
using MailCluster.Smtp;

namespace MailCluster.Edge.Session;

/// <summary>
/// The replies every connection sends that depend only on the node's settings, built once rather than per connection:
/// the 220 greeting and the 221 to QUIT (the hostname), and the EHLO keyword lines (RFC 5321 §4.1.1.1; the lines after
/// the greeting line) for each session state that changes them: before TLS (STARTTLS offered), and within TLS with or
/// without an AUTH line. An EHLO answer is then one concatenation, not an iterator, a list and a join per connection.
/// <para>One cache per process, replaced when the settings it was built from differ (a node has one set; unit tests
/// run sessions with several, one after another or at once: a replaced cache only costs a rebuild). The entries are
/// filled on first use; two threads filling the same entry build the same string.</para>
/// </summary>
internal sealed class SessionReplyCache
{
    private static SessionReplyCache s_current = new("", -1);

    private readonly string?[] _keywordLines = new string?[5];

    private SessionReplyCache(string hostname, long maxMessageSize)
    {
        Hostname = hostname;
        MaxMessageSize = maxMessageSize;
        Greeting = SmtpReplies.Greeting(hostname);
        Closing = new SmtpReply(221, "2.0.0", $"{hostname} closing connection");
    }

    public string Hostname { get; }

    public long MaxMessageSize { get; }

    /// <summary>220 greeting (RFC 5321 §4.3.1).</summary>
    public SmtpReply Greeting { get; }

    /// <summary>221 to QUIT, naming this host.</summary>
    public SmtpReply Closing { get; }

    /// <summary>The cache for this node's hostname and message size limit.</summary>
    public static SessionReplyCache For(string hostname, long maxMessageSize)
    {
        var current = Volatile.Read(ref s_current);
        if (current.MaxMessageSize == maxMessageSize && string.Equals(current.Hostname, hostname, StringComparison.Ordinal))
        {
            return current;
        }

        current = new SessionReplyCache(hostname, maxMessageSize);
        Volatile.Write(ref s_current, current);
        return current;
    }

    /// <summary>The keyword lines, joined by '\n', for a session in or out of TLS that is offered AUTH with passwords
    /// (<paramref name="password"/>), bearer tokens (<paramref name="bearer"/>), both or neither.</summary>
    public string EhloKeywords(bool tls, bool password, bool bearer)
    {
        var index = !tls ? 0 : 1 + (password ? 1 : 0) + (bearer ? 2 : 0);
        return _keywordLines[index] ??= string.Join('\n', Keywords(tls, password, bearer));
    }

    private IEnumerable<string> Keywords(bool tls, bool password, bool bearer)
    {
        yield return "PIPELINING";
        yield return string.Create(CultureInfo.InvariantCulture, $"SIZE {MaxMessageSize}");
        yield return "8BITMIME";
        yield return "SMTPUTF8";
        yield return "ENHANCEDSTATUSCODES";
        yield return "CHUNKING";
        yield return "DSN";
        if (!tls)
        {
            yield return "STARTTLS";
        }
        else if (password || bearer)
        {
            // RFC 4954 §4 and RFC 8314: credentials (passwords and bearer tokens alike) only ever travel inside TLS.
            var mechanisms = password ? SaslMechanisms.Advertised : [];
            yield return "AUTH " + string.Join(' ', bearer ? [.. mechanisms, .. SaslMechanisms.BearerAdvertised] : mechanisms);
        }
    }
}
