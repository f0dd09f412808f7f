using System.Text;

namespace MailCluster.Smtp;

/// <summary>
/// Parses Reverse-path / Forward-path (RFC 5321 §4.1.2):
/// <code>
/// Path      = "&lt;" [ A-d-l ":" ] Mailbox "&gt;"        A-d-l = At-domain *( "," At-domain ), At-domain = "@" Domain
/// Mailbox   = Local-part "@" ( Domain / address-literal )
/// Local-part = Dot-string / Quoted-string
/// </code>
/// The source route (A-d-l) is checked and dropped (§3.3: "MUST BE accepted, SHOULD NOT be generated"; §C).
/// </summary>
internal static class SmtpPathParser
{
    public enum Outcome { Ok, NoPath, BadAddress }

    /// <summary>Parses a path at the start of <paramref name="s"/>. On Ok, <paramref name="length"/> is the number of
    /// octets consumed ('&lt;' through '&gt;'). NoPath: <paramref name="s"/> does not start with '&lt;' (a 501 syntax
    /// error); BadAddress: the bracketed mailbox is malformed (a 553).</summary>
    public static Outcome TryParse(ReadOnlySpan<byte> s, bool allowNull, bool allowPostmaster, out SmtpPath path, out int length)
    {
        path = SmtpPath.Null;
        length = 0;
        if (s.IsEmpty || s[0] != '<')
        {
            return Outcome.NoPath;
        }

        var i = 1;
        if (i < s.Length && s[i] == '>')
        {
            length = 2;
            return allowNull ? Outcome.Ok : Outcome.BadAddress;
        }

        if (i < s.Length && s[i] == '@')
        {
            var colon = s.IndexOf((byte)':');
            if (colon < 0 || !IsSourceRoute(s[1..colon]))
            {
                return Outcome.BadAddress;
            }

            i = colon + 1;
        }

        // Local part.
        var rest = s[i..];
        int localLength;
        if (!rest.IsEmpty && rest[0] == '"')
        {
            localLength = SmtpSyntax.QuotedStringLength(rest);
            if (localLength < 0)
            {
                return Outcome.BadAddress;
            }
        }
        else
        {
            localLength = rest.IndexOfAny((byte)'@', (byte)'>');
            if (localLength < 0 || !SmtpSyntax.IsDotString(rest[..localLength]))
            {
                return Outcome.BadAddress;
            }
        }

        var local = rest[..localLength];
        rest = rest[localLength..];
        if (rest.IsEmpty)
        {
            return Outcome.BadAddress;
        }

        // RCPT TO:<Postmaster> (RFC 5321 §4.1.1.3) is the one mailbox without a domain.
        if (rest[0] == '>')
        {
            if (!allowPostmaster || i != 1 || !Ascii.EqualsIgnoreCase(local, "postmaster"u8))
            {
                return Outcome.BadAddress;
            }

            path = new SmtpPath(Encoding.UTF8.GetString(local), string.Empty);
            length = i + localLength + 1;
            return Outcome.Ok;
        }

        if (rest[0] != '@')
        {
            return Outcome.BadAddress;
        }

        rest = rest[1..];
        var close = rest.IndexOf((byte)'>');
        if (close < 0)
        {
            return Outcome.BadAddress;
        }

        var domain = rest[..close];
        var isLiteral = !domain.IsEmpty && domain[0] == '[';
        if (isLiteral ? !SmtpSyntax.IsAddressLiteral(domain) : !SmtpSyntax.IsDomain(domain))
        {
            return Outcome.BadAddress;
        }

        path = new SmtpPath(Encoding.UTF8.GetString(local), Encoding.UTF8.GetString(domain));
        length = i + localLength + 1 + close + 1;
        return Outcome.Ok;
    }

    // A-d-l = At-domain *( "," At-domain ); At-domain = "@" Domain
    private static bool IsSourceRoute(ReadOnlySpan<byte> adl)
    {
        foreach (var range in adl.Split((byte)','))
        {
            var hop = adl[range];
            if (hop.Length < 2 || hop[0] != '@' || !SmtpSyntax.IsDomain(hop[1..]))
            {
                return false;
            }
        }

        return true;
    }
}
