using System.Collections.ObjectModel;
using System.Globalization;
using System.Text;

namespace MailCluster.Smtp;

/// <summary>
/// Mail-parameters / Rcpt-parameters (RFC 5321 §4.1.2, RFC 1869): esmtp-param *(SP esmtp-param),
/// esmtp-param = esmtp-keyword ["=" esmtp-value]. Keywords are case-insensitive and returned upper-case.
/// Only the keywords of the extensions MailCluster implements are accepted; any other answers 555 5.5.4
/// (RFC 5321 §4.1.1.11). Values of known keywords are checked here so the session can trust them.
/// </summary>
internal static class EsmtpParameters
{
    /// <summary>MAIL FROM keywords: SIZE (RFC 1870), BODY (RFC 6152, RFC 3030), SMTPUTF8 (RFC 6531),
    /// RET and ENVID (RFC 3461), AUTH (RFC 4954 §5).</summary>
    public static readonly IReadOnlySet<string> MailKeywords = new HashSet<string>(["SIZE", "BODY", "SMTPUTF8", "RET", "ENVID", "AUTH"], StringComparer.Ordinal);

    /// <summary>RCPT TO keywords: NOTIFY and ORCPT (RFC 3461 §4.1, §4.2).</summary>
    public static readonly IReadOnlySet<string> RcptKeywords = new HashSet<string>(["NOTIFY", "ORCPT"], StringComparer.Ordinal);

    private static readonly IReadOnlyDictionary<string, string?> None = ReadOnlyDictionary<string, string?>.Empty;

    /// <summary>Parses what follows the path. <paramref name="s"/> is empty or starts with SP.
    /// Several SP between parameters are tolerated (Postfix does the same).</summary>
    public static SmtpReply? TryParse(ReadOnlySpan<byte> s, IReadOnlySet<string> known, out IReadOnlyDictionary<string, string?> parameters)
    {
        parameters = None;
        if (s.IsEmpty)
        {
            return null;
        }

        if (s[0] != ' ')
        {
            return SmtpReplies.SyntaxError("Syntax error in parameters");
        }

        Dictionary<string, string?>? result = null;
        foreach (var range in s.Split((byte)' '))
        {
            var token = s[range];
            if (token.IsEmpty)
            {
                continue;
            }

            var eq = token.IndexOf((byte)'=');
            var keyword = eq < 0 ? token : token[..eq];
            if (!SmtpSyntax.IsEsmtpKeyword(keyword) || (eq >= 0 && !SmtpSyntax.IsEsmtpValue(token[(eq + 1)..])))
            {
                return SmtpReplies.SyntaxError("Syntax error in parameters");
            }

            var name = Encoding.ASCII.GetString(keyword).ToUpperInvariant();
            if (!known.Contains(name))
            {
                return SmtpReplies.UnknownParameter;
            }

            var value = eq < 0 ? null : Validate(name, token[(eq + 1)..]);
            if (eq >= 0 ? value is null : RequiresValue(name))
            {
                return SmtpReplies.SyntaxError($"Invalid {name} parameter");
            }

            result ??= new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
            if (!result.TryAdd(name, value))
            {
                return SmtpReplies.SyntaxError($"Duplicate {name} parameter");
            }
        }

        parameters = result is null ? None : result.AsReadOnly();
        return null;
    }

    private static bool RequiresValue(string name) => name != "SMTPUTF8";

    /// <summary>The value as stored (upper-cased for enumerations), or null when it is invalid for the keyword.</summary>
    private static string? Validate(string name, ReadOnlySpan<byte> v) => name switch
    {
        // size-value = 1*20DIGIT (RFC 1870 §3); we also require it to fit a long.
        "SIZE" => v.Length <= 20 && !v.ContainsAnyExceptInRange((byte)'0', (byte)'9')
                  && long.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out _) ? Encoding.ASCII.GetString(v) : null,
        "BODY" => OneOf(v, "7BIT", "8BITMIME", "BINARYMIME"),
        "RET" => OneOf(v, "FULL", "HDRS"),
        // ENVID: xtext, at most 100 characters (RFC 3461 §4.4).
        "ENVID" => v.Length <= 100 && SmtpSyntax.IsXtext(v) ? Encoding.ASCII.GetString(v) : null,
        // AUTH=<> or AUTH=xtext mailbox (RFC 4954 §5).
        "AUTH" => v.SequenceEqual("<>"u8) || SmtpSyntax.IsXtext(v) ? Encoding.ASCII.GetString(v) : null,
        "NOTIFY" => ValidNotify(v),
        // ORCPT = addr-type ";" xtext (RFC 3461 §4.2); addr-type is an atom ("rfc822", "utf-8").
        "ORCPT" => ValidOrcpt(v),
        _ => null, // SMTPUTF8 takes no value.
    };

    private static string? OneOf(ReadOnlySpan<byte> v, params ReadOnlySpan<string> options)
    {
        foreach (var option in options)
        {
            if (Ascii.EqualsIgnoreCase(v, option))
            {
                return option;
            }
        }

        return null;
    }

    // NOTIFY = "NEVER" / 1#( "SUCCESS" / "FAILURE" / "DELAY" ) (RFC 3461 §4.1)
    private static string? ValidNotify(ReadOnlySpan<byte> v)
    {
        if (Ascii.EqualsIgnoreCase(v, "NEVER"u8))
        {
            return "NEVER";
        }

        foreach (var range in v.Split((byte)','))
        {
            if (OneOf(v[range], "SUCCESS", "FAILURE", "DELAY") is null)
            {
                return null;
            }
        }

        return Encoding.ASCII.GetString(v).ToUpperInvariant();
    }

    private static string? ValidOrcpt(ReadOnlySpan<byte> v)
    {
        var semi = v.IndexOf((byte)';');
        if (semi <= 0 || !SmtpSyntax.IsDotString(v[..semi]))
        {
            return null;
        }

        var rest = v[(semi + 1)..];
        var utf8Type = Ascii.EqualsIgnoreCase(v[..semi], "utf-8"u8);
        // utf-8-addr-xtext (RFC 6533 §3) carries raw UTF-8; xtext otherwise.
        return !rest.IsEmpty && (utf8Type || SmtpSyntax.IsXtext(rest)) ? Encoding.UTF8.GetString(v) : null;
    }
}
