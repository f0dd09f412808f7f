namespace MailCluster.Smtp;

/// <summary>The SMTP commands this layer understands (RFC 5321 §4.1.1, RFC 3030 BDAT, RFC 3207 STARTTLS, RFC 4954 AUTH).</summary>
public enum SmtpVerb
{
    Helo,
    Ehlo,
    Mail,
    Rcpt,
    Data,
    Bdat,
    Rset,
    Noop,
    Quit,
    Vrfy,
    Expn,
    Help,
    StartTls,
    Auth,
}
