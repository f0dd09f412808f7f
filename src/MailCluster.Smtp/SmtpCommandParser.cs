using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.Text;
using System.Text.Unicode;

namespace MailCluster.Smtp;

/// <summary>Exactly one of <see cref="Command"/> and <see cref="Error"/> is set.</summary>
public readonly record struct SmtpParseResult(SmtpCommand? Command, SmtpReply? Error)
{
    public bool IsSuccess => Command is not null;

    public static SmtpParseResult Success(SmtpCommand command) => new(command, null);

    public static SmtpParseResult Failure(SmtpReply error) => new(null, error);
}

/// <summary>
/// Parses one command line (RFC 5321 §4.1.1) into an <see cref="SmtpCommand"/> or the error reply to send.
/// <list type="bullet">
/// <item>Verbs are case-insensitive; a verb ends at the first SP. Trailing SP/HTAB are ignored and extra SP between
/// arguments tolerated (many clients send them; Postfix accepts them too).</item>
/// <item>Unknown verb: 500 5.5.2. Obsolete or unoffered verbs (TURN, ETRN, SEND, SOML, SAML, ATRN): 502 5.5.1.</item>
/// <item>Bad syntax, missing or superfluous argument, control characters, malformed UTF-8: 501 5.5.4.</item>
/// <item>MAIL/RCPT whose line structure is wrong (no "FROM:"/"TO:", no '&lt;'): 501 5.5.4 — the command itself is
/// malformed. A bracketed path whose mailbox is malformed: 553 "mailbox syntax incorrect" (RFC 5321 §4.2.3) with
/// 5.1.7 for the sender and 5.1.3 for a recipient (RFC 3463 §3.2). "MAIL FROM: &lt;a@b&gt;" (SP after the colon) is accepted.</item>
/// <item>Unknown MAIL/RCPT parameter: 555 5.5.4 (RFC 5321 §4.1.1.11); a bad value of a known one: 501 5.5.4.</item>
/// </list>
/// Paths may be UTF-8 (RFC 6531); whether SMTPUTF8 was given is the session's check (<see cref="SmtpPath.IsUtf8"/>).
/// Never throws, whatever the input.
/// </summary>
public static class SmtpCommandParser
{
    /// <summary>Lines longer than this are refused without parsing (the line reader's limit is normally far lower).</summary>
    public const int MaxLineLength = 64 * 1024;

    private static readonly SearchValues<byte> ControlChars = SearchValues.Create(
        [.. Enumerable.Range(0, 32).Select(i => (byte)i), 127]);

    public static SmtpParseResult Parse(ReadOnlySequence<byte> line)
    {
        if (line.IsSingleSegment)
        {
            return Parse(line.FirstSpan);
        }

        if (line.Length > MaxLineLength)
        {
            return SmtpParseResult.Failure(SmtpReplies.LineTooLong);
        }

        var length = (int)line.Length;
        var rented = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            line.CopyTo(rented);
            return Parse(rented.AsSpan(0, length));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>Same contract as <see cref="Parse(ReadOnlySequence{byte})"/>.</summary>
    public static SmtpParseResult Parse(ReadOnlySpan<byte> line)
    {
        if (line.Length > MaxLineLength)
        {
            return SmtpParseResult.Failure(SmtpReplies.LineTooLong);
        }

        line = line.TrimEnd(" \t"u8);
        var sp = line.IndexOf((byte)' ');
        var verbText = sp < 0 ? line : line[..sp];
        var args = sp < 0 ? [] : line[(sp + 1)..].TrimStart((byte)' ');
        if (!TryMatchVerb(verbText, out var verb))
        {
            return SmtpParseResult.Failure(IsUnofferedVerb(verbText) ? SmtpReplies.NotImplemented : SmtpReplies.UnknownCommand);
        }

        if (args.ContainsAny(ControlChars))
        {
            return Fail("Invalid character in command");
        }

        if (!Utf8.IsValid(args))
        {
            return Fail("Invalid UTF-8 in command");
        }

        return verb switch
        {
            SmtpVerb.Helo or SmtpVerb.Ehlo => ParseHelo(verb == SmtpVerb.Ehlo, args),
            SmtpVerb.Mail => ParseMail(args),
            SmtpVerb.Rcpt => ParseRcpt(args),
            SmtpVerb.Bdat => ParseBdat(args),
            SmtpVerb.Auth => ParseAuth(args),
            SmtpVerb.Data or SmtpVerb.Rset or SmtpVerb.Quit or SmtpVerb.StartTls => args.IsEmpty
                ? SmtpParseResult.Success(new SimpleCommand(verb, string.Empty))
                : Fail($"Syntax: {Name(verb)} (no parameters allowed)"),
            SmtpVerb.Vrfy or SmtpVerb.Expn => args.IsEmpty
                ? Fail($"Syntax: {Name(verb)} <string>")
                : SmtpParseResult.Success(new SimpleCommand(verb, Encoding.UTF8.GetString(args))),
            _ => SmtpParseResult.Success(new SimpleCommand(verb, Encoding.UTF8.GetString(args))), // NOOP, HELP: optional argument
        };
    }

    /// <summary>The verb as written on the wire ("STARTTLS", "EHLO", ...).</summary>
    public static string Name(SmtpVerb verb) => verb.ToString().ToUpperInvariant();

    private static SmtpParseResult Fail(string text) => SmtpParseResult.Failure(SmtpReplies.SyntaxError(text));

    private static bool TryMatchVerb(ReadOnlySpan<byte> v, out SmtpVerb verb)
    {
        // Fourteen short ASCII comparisons; no allocation.
        foreach (var candidate in Verbs)
        {
            if (Ascii.EqualsIgnoreCase(v, candidate.Name))
            {
                verb = candidate.Verb;
                return true;
            }
        }

        verb = default;
        return false;
    }

    private static readonly (byte[] Name, SmtpVerb Verb)[] Verbs =
        [.. Enum.GetValues<SmtpVerb>().Select(v => (Encoding.ASCII.GetBytes(Name(v)), v))];

    private static bool IsUnofferedVerb(ReadOnlySpan<byte> v) =>
        Ascii.EqualsIgnoreCase(v, "TURN"u8) || Ascii.EqualsIgnoreCase(v, "ETRN"u8) || Ascii.EqualsIgnoreCase(v, "ATRN"u8)
        || Ascii.EqualsIgnoreCase(v, "SEND"u8) || Ascii.EqualsIgnoreCase(v, "SOML"u8) || Ascii.EqualsIgnoreCase(v, "SAML"u8);

    // "EHLO" SP ( Domain / address-literal ), "HELO" SP Domain (RFC 5321 §4.1.1.1). Host names are checked leniently
    // (underscores and U-labels pass; real clients send them): whether to trust the name is policy, not syntax.
    private static SmtpParseResult ParseHelo(bool extended, ReadOnlySpan<byte> args)
    {
        var name = extended ? "EHLO" : "HELO";
        if (args.IsEmpty)
        {
            return Fail($"Syntax: {name} hostname");
        }

        var valid = args[0] == '['
            ? SmtpSyntax.IsAddressLiteral(args)
            : args.Length <= 255 && !args.ContainsAny(HeloForbidden) && args[0] != '.';
        return valid
            ? SmtpParseResult.Success(new HeloCommand(extended, Encoding.UTF8.GetString(args)))
            : Fail($"Invalid domain name in {name}");
    }

    private static readonly SearchValues<byte> HeloForbidden = SearchValues.Create(" <>()[]@,;:\\\"'!#$%&*+/=?^`{|}~"u8);

    // "MAIL FROM:" Reverse-path [SP Mail-parameters] (RFC 5321 §4.1.1.2)
    private static SmtpParseResult ParseMail(ReadOnlySpan<byte> args)
    {
        if (args.Length < 5 || !Ascii.EqualsIgnoreCase(args[..5], "FROM:"u8))
        {
            return Fail("Syntax: MAIL FROM:<address>");
        }

        var rest = args[5..].TrimStart((byte)' ');
        switch (SmtpPathParser.TryParse(rest, allowNull: true, allowPostmaster: false, out var path, out var used))
        {
            case SmtpPathParser.Outcome.NoPath: return Fail("Syntax: MAIL FROM:<address>");
            case SmtpPathParser.Outcome.BadAddress: return SmtpParseResult.Failure(SmtpReplies.BadSenderAddress);
        }

        var error = EsmtpParameters.TryParse(rest[used..], EsmtpParameters.MailKeywords, out var parameters);
        return error is { } e ? SmtpParseResult.Failure(e) : SmtpParseResult.Success(new MailCommand(path, parameters));
    }

    // "RCPT TO:" ( "<Postmaster@" Domain ">" / "<Postmaster>" / Forward-path ) [SP Rcpt-parameters] (RFC 5321 §4.1.1.3)
    private static SmtpParseResult ParseRcpt(ReadOnlySpan<byte> args)
    {
        if (args.Length < 3 || !Ascii.EqualsIgnoreCase(args[..3], "TO:"u8))
        {
            return Fail("Syntax: RCPT TO:<address>");
        }

        var rest = args[3..].TrimStart((byte)' ');
        switch (SmtpPathParser.TryParse(rest, allowNull: false, allowPostmaster: true, out var path, out var used))
        {
            case SmtpPathParser.Outcome.NoPath: return Fail("Syntax: RCPT TO:<address>");
            case SmtpPathParser.Outcome.BadAddress: return SmtpParseResult.Failure(SmtpReplies.BadAddress);
        }

        var error = EsmtpParameters.TryParse(rest[used..], EsmtpParameters.RcptKeywords, out var parameters);
        return error is { } e ? SmtpParseResult.Failure(e) : SmtpParseResult.Success(new RcptCommand(path, parameters));
    }

    // bdat-cmd = "BDAT" SP chunk-size [ SP end-marker ]; chunk-size = 1*DIGIT; end-marker = "LAST" (RFC 3030 §2)
    private static SmtpParseResult ParseBdat(ReadOnlySpan<byte> args)
    {
        var sp = args.IndexOf((byte)' ');
        var size = sp < 0 ? args : args[..sp];
        var marker = sp < 0 ? [] : args[(sp + 1)..].TrimStart((byte)' ');
        if (size.IsEmpty || size.ContainsAnyExceptInRange((byte)'0', (byte)'9')
            || !long.TryParse(size, NumberStyles.None, CultureInfo.InvariantCulture, out var octets))
        {
            return Fail("Syntax: BDAT chunk-size [LAST]");
        }

        if (!marker.IsEmpty && !Ascii.EqualsIgnoreCase(marker, "LAST"u8))
        {
            return Fail("Syntax: BDAT chunk-size [LAST]");
        }

        return SmtpParseResult.Success(new BdatCommand(octets, !marker.IsEmpty));
    }

    // "AUTH" SP sasl-mech [SP initial-response]; sasl-mech = 1*20(ALPHA / DIGIT / "-" / "_"); initial-response = base64 / "=" (RFC 4954 §4)
    private static SmtpParseResult ParseAuth(ReadOnlySpan<byte> args)
    {
        var sp = args.IndexOf((byte)' ');
        var mech = sp < 0 ? args : args[..sp];
        var initial = sp < 0 ? [] : args[(sp + 1)..].TrimStart((byte)' ');
        if (mech.IsEmpty || mech.Length > 20 || mech.ContainsAnyExcept(MechanismChars))
        {
            return Fail("Syntax: AUTH mechanism [initial-response]");
        }

        if (!initial.IsEmpty && (initial.Contains((byte)' ') || !IsBase64(initial)))
        {
            return Fail("Invalid initial response");
        }

        var mechanism = Encoding.ASCII.GetString(mech).ToUpperInvariant();
        return SmtpParseResult.Success(new AuthCommand(mechanism, initial.IsEmpty ? null : Encoding.ASCII.GetString(initial)));
    }

    private static readonly SearchValues<byte> MechanismChars =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"u8);

    private static bool IsBase64(ReadOnlySpan<byte> s) =>
        s.SequenceEqual("="u8) || (s.Length % 4 == 0 && Base64.IsValid(s));
}
