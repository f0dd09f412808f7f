using System.Globalization;

namespace MailCluster.Smtp;

/// <summary>
/// The fixed replies used by every listener. Basic codes per RFC 5321 §4.2.2/§4.2.3, enhanced codes per RFC 3463
/// (registry: RFC 5248). Greeting, HELO and EHLO replies carry no enhanced code: ENHANCEDSTATUSCODES is only in force
/// once EHLO has been answered (RFC 2034 §3).
/// </summary>
public static class SmtpReplies
{
    // ---- 2xx / 3xx ---------------------------------------------------------------------------------------------

    /// <summary>220 greeting (RFC 5321 §4.3.1). No enhanced code (RFC 2034).</summary>
    public static SmtpReply Greeting(string hostName) => new(220, string.Empty, $"{hostName} ESMTP MailCluster");

    /// <summary>250 to HELO (RFC 5321 §4.1.1.1).</summary>
    public static SmtpReply Helo(string hostName, string clientDomain) => new(250, string.Empty, $"{hostName} Hello {clientDomain}");

    /// <summary>Multi-line 250 to EHLO: first line greets, the others are the advertised extension keywords
    /// ("PIPELINING", "SIZE 10485760", "8BITMIME", "SMTPUTF8", "CHUNKING", "ENHANCEDSTATUSCODES", "STARTTLS", "AUTH PLAIN LOGIN").</summary>
    public static SmtpReply Ehlo(string hostName, string clientDomain, IEnumerable<string> extensions)
    {
        ArgumentNullException.ThrowIfNull(extensions);
        var lines = new List<string> { $"{hostName} Hello {clientDomain}" };
        lines.AddRange(extensions);
        return new(250, string.Empty, string.Join('\n', lines));
    }

    /// <summary>Multi-line 250 to EHLO with the keyword lines already joined by '\n' (a cached form of the above).</summary>
    public static SmtpReply Ehlo(string hostName, string clientDomain, string keywordLines)
    {
        ArgumentNullException.ThrowIfNull(keywordLines);
        return keywordLines.Length == 0
            ? new(250, string.Empty, $"{hostName} Hello {clientDomain}")
            : new(250, string.Empty, $"{hostName} Hello {clientDomain}\n{keywordLines}");
    }

    public static SmtpReply Ok { get; } = new(250, "2.0.0", "OK");

    public static SmtpReply SenderOk { get; } = new(250, "2.1.0", "Sender OK");

    public static SmtpReply RecipientOk { get; } = new(250, "2.1.5", "Recipient OK");

    /// <summary>250 after the message is durably queued (DESIGN invariant 1: only after commit).</summary>
    public static SmtpReply Queued(string id) => new(250, "2.0.0", $"Ok: queued as {id}");

    /// <summary>250 to a non-LAST BDAT chunk (RFC 3030 §2).</summary>
    public static SmtpReply ChunkReceived(long size) => new(250, "2.0.0", string.Create(CultureInfo.InvariantCulture, $"{size} octets received"));

    /// <summary>221 to QUIT (RFC 5321 §4.1.1.10).</summary>
    public static SmtpReply Closing { get; } = new(221, "2.0.0", "Bye");

    public static SmtpReply HelpText { get; } = new(214, "2.0.0", "See RFC 5321");

    /// <summary>252 to VRFY: we do not disclose mailboxes (RFC 5321 §3.5.3, §7.3).</summary>
    public static SmtpReply CannotVerify { get; } = new(252, "2.5.0", "Cannot VRFY user, but will accept message and attempt delivery");

    /// <summary>354 to DATA (RFC 5321 §4.1.1.4). Intermediate replies carry no enhanced code.</summary>
    public static SmtpReply StartMailInput { get; } = new(354, string.Empty, "End data with <CR><LF>.<CR><LF>");

    /// <summary>220 to STARTTLS (RFC 3207 §4).</summary>
    public static SmtpReply ReadyToStartTls { get; } = new(220, "2.0.0", "Ready to start TLS");

    /// <summary>334 AUTH challenge; <paramref name="base64Challenge"/> may be empty (RFC 4954 §4).</summary>
    public static SmtpReply AuthChallenge(string base64Challenge) => new(334, string.Empty, base64Challenge);

    /// <summary>235 (RFC 4954 §6).</summary>
    public static SmtpReply AuthSucceeded { get; } = new(235, "2.7.0", "Authentication successful");

    // ---- 4xx ---------------------------------------------------------------------------------------------------

    /// <summary>421 on shutdown drain; the server closes the connection (RFC 5321 §3.8).</summary>
    public static SmtpReply ShuttingDown(string hostName) => new(421, "4.3.2", $"{hostName} Service shutting down, closing transmission channel");

    /// <summary>421 after the command/data timeout (RFC 5321 §4.5.3.2).</summary>
    public static SmtpReply Timeout { get; } = new(421, "4.4.2", "Timeout exceeded, closing transmission channel");

    /// <summary>421 when a client keeps sending bad commands.</summary>
    public static SmtpReply TooManyErrors { get; } = new(421, "4.7.0", "Too many errors, closing transmission channel");

    /// <summary>451: anything failed before the message was durably queued (DESIGN invariant 1).</summary>
    public static SmtpReply LocalError { get; } = new(451, "4.3.0", "Local error in processing, try again later");

    /// <summary>452 once the recipient limit is reached; the client retries the rest later (RFC 5321 §4.5.3.1.10).</summary>
    public static SmtpReply TooManyRecipients { get; } = new(452, "4.5.3", "Too many recipients");

    /// <summary>452: queue or spool is out of space.</summary>
    public static SmtpReply InsufficientStorage { get; } = new(452, "4.3.1", "Insufficient system storage");

    // ---- 5xx: command sequence and syntax --------------------------------------------------------------------

    /// <summary>500 unknown verb (RFC 5321 §4.2.4; X.5.2 "syntax error").</summary>
    public static SmtpReply UnknownCommand { get; } = new(500, "5.5.2", "Command unrecognized");

    /// <summary>502 for verbs that exist but are not offered (TURN, ETRN, SEND, SOML, SAML, ...; RFC 5321 §4.2.4).</summary>
    public static SmtpReply NotImplemented { get; } = new(502, "5.5.1", "Command not implemented");

    /// <summary>500 when a command line exceeds the limit (RFC 5321 §4.5.3.1.4). X.5.6 is the RFC 4954 "line too long" code.</summary>
    public static SmtpReply LineTooLong { get; } = new(500, "5.5.6", "Line too long");

    /// <summary>501 syntax error in parameters or arguments (X.5.4 "invalid command arguments").</summary>
    public static SmtpReply SyntaxError(string text) => new(501, "5.5.4", text);

    /// <summary>503 bad sequence of commands (X.5.1 "invalid command"). The texts come from <see cref="SmtpStateTable"/>.</summary>
    public static SmtpReply BadSequence(string text) => new(503, "5.5.1", text);

    public static SmtpReply SendHeloFirst { get; } = BadSequence("Send HELO/EHLO first");

    public static SmtpReply NeedMailFirst { get; } = BadSequence("Need MAIL command");

    public static SmtpReply NeedRcptFirst { get; } = BadSequence("Need RCPT command");

    public static SmtpReply NestedMail { get; } = BadSequence("Nested MAIL command");

    /// <summary>STARTTLS or AUTH inside a mail transaction (RFC 4954 §4: AUTH is not permitted during one).</summary>
    public static SmtpReply TransactionInProgress { get; } = BadSequence("Mail transaction in progress");

    /// <summary>555 for a MAIL/RCPT parameter that is not recognised (RFC 5321 §4.1.1.11).</summary>
    public static SmtpReply UnknownParameter { get; } = new(555, "5.5.4", "MAIL FROM/RCPT TO parameters not recognized or not implemented");

    /// <summary>521 and close on a bare CR or LF (SMTP smuggling, CVE-2023-51764; same reply as Postfix).</summary>
    public static SmtpReply BareLineEnding { get; } = new(521, "5.5.2", "Syntax error: bare <CR> or <LF> received");

    // ---- 5xx: addresses ----------------------------------------------------------------------------------------

    /// <summary>553 "mailbox syntax incorrect" (RFC 5321 §4.2.3) for a recipient (X.1.3 "bad destination mailbox address syntax").</summary>
    public static SmtpReply BadAddress { get; } = new(553, "5.1.3", "Bad recipient address syntax");

    /// <summary>553 for a sender (X.1.7 "bad sender's mailbox address syntax").</summary>
    public static SmtpReply BadSenderAddress { get; } = new(553, "5.1.7", "Bad sender address syntax");

    /// <summary>553 for a non-ASCII address without SMTPUTF8 (RFC 6531 §3.5, X.6.7).</summary>
    public static SmtpReply Utf8AddressNeedsSmtpUtf8 { get; } = new(553, "5.6.7", "Non-ASCII address requires SMTPUTF8");

    public static SmtpReply MailboxUnavailable { get; } = new(550, "5.1.1", "Mailbox unavailable");

    /// <summary>554 relay denied (X.7.1 "delivery not authorized").</summary>
    public static SmtpReply RelayDenied { get; } = new(554, "5.7.1", "Relay access denied");

    // ---- 5xx: message content ----------------------------------------------------------------------------------

    /// <summary>552 (RFC 1870 §6.2; X.3.4 "message too big for system").</summary>
    public static SmtpReply MessageTooLarge { get; } = new(552, "5.3.4", "Message size exceeds fixed maximum message size");

    /// <summary>554 when the text line limit of RFC 5321 §4.5.3.1.6 is exceeded (X.6.0 "other media error").</summary>
    public static SmtpReply MessageLineTooLong { get; } = new(554, "5.6.0", "Message contains a line longer than 1000 octets");

    /// <summary>554 mail loop (X.4.6 "routing loop detected"; RFC 5321 §6.3).</summary>
    public static SmtpReply RoutingLoop { get; } = new(554, "5.4.6", "Too many Received headers, mail loop detected");

    /// <summary>554 for content this server refuses (NUL octets without BINARYMIME, ...; X.6.0).</summary>
    public static SmtpReply BadContent(string text) => new(554, "5.6.0", text);

    // ---- 5xx: security -----------------------------------------------------------------------------------------

    /// <summary>530 (RFC 3207 §4).</summary>
    public static SmtpReply StartTlsFirst { get; } = new(530, "5.7.0", "Must issue a STARTTLS command first");

    /// <summary>530 (RFC 4954 §6).</summary>
    public static SmtpReply AuthRequired { get; } = new(530, "5.7.0", "Authentication required");

    /// <summary>535 (RFC 4954 §6).</summary>
    public static SmtpReply AuthFailed { get; } = new(535, "5.7.8", "Authentication credentials invalid");

    /// <summary>501 when the client cancels with "*" (RFC 4954 §4).</summary>
    public static SmtpReply AuthCancelled { get; } = new(501, "5.7.0", "Authentication cancelled");

    /// <summary>504 (RFC 4954 §6).</summary>
    public static SmtpReply UnsupportedMechanism { get; } = new(504, "5.5.4", "Unrecognized authentication type");

    /// <summary>538 (RFC 4954 §6): mechanism needs TLS.</summary>
    public static SmtpReply EncryptionRequired { get; } = new(538, "5.7.11", "Encryption required for requested authentication mechanism");
}
