using System.Globalization;

namespace MailCluster.Smtp;

/// <summary>A syntactically valid SMTP command, produced by <see cref="SmtpCommandParser"/>.</summary>
public abstract record SmtpCommand(SmtpVerb Verb);

/// <summary>EHLO (<paramref name="Extended"/>) or HELO (RFC 5321 §4.1.1.1). <paramref name="Domain"/> is a host name
/// or an address literal such as "[192.0.2.1]" or "[IPv6:2001:db8::1]", exactly as the client sent it.</summary>
public sealed record HeloCommand(bool Extended, string Domain) : SmtpCommand(Extended ? SmtpVerb.Ehlo : SmtpVerb.Helo)
{
    /// <summary>True when <see cref="Domain"/> is an address literal (RFC 5321 §4.1.3).</summary>
    public bool IsAddressLiteral => Domain.StartsWith('[');
}

/// <summary>MAIL FROM (RFC 5321 §4.1.1.2). Parameter keys are upper-case (SIZE, BODY, SMTPUTF8, RET, ENVID, AUTH);
/// a keyword sent without "=value" maps to null. Values are syntax-checked by the parser.</summary>
public sealed record MailCommand(SmtpPath ReversePath, IReadOnlyDictionary<string, string?> Parameters) : SmtpCommand(SmtpVerb.Mail)
{
    /// <summary>SIZE=n (RFC 1870), or null when absent.</summary>
    public long? Size => Parameters.TryGetValue("SIZE", out var v) && long.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out var size) ? size : null;

    /// <summary>BODY=7BIT|8BITMIME|BINARYMIME (RFC 6152, RFC 3030), upper-cased, or null.</summary>
    public string? Body => Parameters.TryGetValue("BODY", out var v) ? v : null;

    /// <summary>SMTPUTF8 present (RFC 6531 §3.4).</summary>
    public bool SmtpUtf8 => Parameters.ContainsKey("SMTPUTF8");
}

/// <summary>RCPT TO (RFC 5321 §4.1.1.3). Parameter keys are upper-case (NOTIFY, ORCPT; RFC 3461).
/// "&lt;Postmaster&gt;" without a domain is accepted as <c>SmtpPath("Postmaster", "")</c>.</summary>
public sealed record RcptCommand(SmtpPath ForwardPath, IReadOnlyDictionary<string, string?> Parameters) : SmtpCommand(SmtpVerb.Rcpt);

/// <summary>BDAT chunk-size [LAST] (RFC 3030 §2): exactly <paramref name="Size"/> octets follow the command line.</summary>
public sealed record BdatCommand(long Size, bool Last) : SmtpCommand(SmtpVerb.Bdat);

/// <summary>AUTH mechanism [initial-response] (RFC 4954 §4). <paramref name="Mechanism"/> is upper-case;
/// <paramref name="InitialResponse"/> is the base64 text as sent ("=" means an empty response), or null.</summary>
public sealed record AuthCommand(string Mechanism, string? InitialResponse) : SmtpCommand(SmtpVerb.Auth);

/// <summary>DATA RSET NOOP QUIT VRFY EXPN HELP STARTTLS. <paramref name="Argument"/> is "" when none was sent;
/// DATA, RSET, QUIT and STARTTLS never carry one; VRFY and EXPN always do.</summary>
public sealed record SimpleCommand(SmtpVerb Verb, string Argument) : SmtpCommand(Verb);
