namespace MailCluster.Smtp;

/// <summary>
/// A reverse- or forward-path (RFC 5321 §4.1.2 "Path"). The source route of the obsolete "&lt;@a,@b:user@c&gt;" form
/// is accepted by the parser and dropped (RFC 5321 §3.3, §C). A quoted local part keeps its quotes and escapes,
/// so <see cref="Address"/> is the mailbox exactly as it must be sent onward.
/// </summary>
public sealed record SmtpPath(string LocalPart, string Domain)
{
    /// <summary>The null reverse-path "&lt;&gt;" (RFC 5321 §4.5.5): bounces and other notifications.</summary>
    public static readonly SmtpPath Null = new(string.Empty, string.Empty);

    public bool IsNull => LocalPart.Length == 0 && Domain.Length == 0;

    /// <summary>"local@domain"; "" for the null path; "Postmaster" for the domain-less RCPT TO:&lt;Postmaster&gt;.</summary>
    public string Address => Domain.Length == 0 ? LocalPart : LocalPart + "@" + Domain;

    /// <summary>True when the path holds a non-ASCII character, so it needs SMTPUTF8 (RFC 6531 §3.3).</summary>
    public bool IsUtf8 => !System.Text.Ascii.IsValid(LocalPart) || !System.Text.Ascii.IsValid(Domain);

    /// <summary>The path in wire form: "&lt;local@domain&gt;".</summary>
    public override string ToString() => "<" + Address + ">";
}
