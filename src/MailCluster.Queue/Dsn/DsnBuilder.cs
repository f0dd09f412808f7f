using System.Globalization;
using System.Text;
using MailCluster.Queue.State;
using MimeKit;
using MimeKit.Utils;

namespace MailCluster.Queue.Dsn;

/// <summary>What a DSN reports on: one message of one sender, some of its recipients.</summary>
/// <param name="OriginalBody">The spooled message, or null when its body is gone (the DSN then carries no content).</param>
/// <param name="Ret">RET from MAIL: <c>FULL</c> returns the whole message, anything else the headers only.</param>
public sealed record DsnRequest(
    string ReportingMta,
    string OriginalMessageId,
    string Sender,
    DateTimeOffset ArrivedAt,
    string? EnvId,
    string? Ret,
    IReadOnlyList<(DsnReport Report, string? OriginalRecipient)> Recipients,
    ReadOnlyMemory<byte>? OriginalBody,
    DateTimeOffset Now);

/// <summary>
/// Builds an RFC 3464 delivery status notification with MimeKit: <c>multipart/report; report-type=delivery-status</c>
/// (RFC 6522) holding a human-readable part, a <c>message/delivery-status</c> part (per-message fields, then one
/// group per recipient) and the original headers (<c>text/rfc822-headers</c>) or, for RET=FULL, the original message
/// (<c>message/rfc822</c>). From MAILER-DAEMON; the envelope sender of a DSN is always null (RFC 3461 §6.2). Pure.
/// When the original needed SMTPUTF8 (a UTF-8 envelope address or header), the RFC 6533 forms instead:
/// <c>global-delivery-status</c>, <c>utf-8</c> address types in raw UTF-8, <c>message/global</c> or
/// <c>message/global-headers</c>.
/// </summary>
public static class DsnBuilder
{
    public static byte[] Build(DsnRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var message = new MimeMessage();
        message.From.Add(new MailboxAddress("Mail Delivery System", $"MAILER-DAEMON@{request.ReportingMta}"));
        message.To.Add(MailboxAddress.Parse(request.Sender));
        message.Date = request.Now;
        message.MessageId = $"{request.OriginalMessageId}.{request.Now.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture)}@{request.ReportingMta}";
        message.Subject = Subject(request.Recipients.Select(r => r.Report.Action));
        message.Headers.Add("Auto-Submitted", "auto-replied"); // RFC 3834 §5: no auto-replies to this.

        bool global = IsInternational(request);
        var report = new MultipartReport(global ? "global-delivery-status" : "delivery-status");
        report.Add(new TextPart("plain") { Text = HumanReadable(request) });
        report.Add(Status(request, global));
        if (request.OriginalBody is { } body)
        {
            report.Add(Original(body, request.Ret, global));
        }

        message.Body = report;
        using var output = new MemoryStream();
        var format = FormatOptions.Default.Clone();
        format.NewLineFormat = NewLineFormat.Dos;
        message.WriteTo(format, output);
        return output.ToArray();
    }

    private static string Subject(IEnumerable<string> actions)
    {
        var set = actions.ToHashSet(StringComparer.Ordinal);
        return set.Contains(DsnPolicy.Failed) ? "Undelivered Mail Returned to Sender"
            : set.Contains(DsnPolicy.Delayed) ? "Delayed Mail (still being retried)"
            : "Successful Mail Delivery Report";
    }

    private static string HumanReadable(DsnRequest request)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"This is the mail system at host {request.ReportingMta}.\r\n\r\n");
        foreach (var (r, _) in request.Recipients)
        {
            string what = r.Action switch
            {
                DsnPolicy.Failed => "could not be delivered",
                DsnPolicy.Delayed => "has not been delivered yet; delivery will be retried",
                DsnPolicy.Relayed => "was relayed to a system that does not report delivery",
                _ => "was delivered",
            };
            text.Append(CultureInfo.InvariantCulture, $"Your message to <{r.Recipient}> {what}.\r\n");
            text.Append(CultureInfo.InvariantCulture, $"    {r.RemoteMta ?? request.ReportingMta} said: {Diagnostic(r)}\r\n\r\n");
        }

        return text.ToString();
    }

    /// <summary>RFC 6533 §3: the original needed SMTPUTF8 when an envelope address has a non-ASCII local part or a
    /// header is in UTF-8 (8-bit octets in the header section of an SMTPUTF8 message).</summary>
    private static bool IsInternational(DsnRequest request)
    {
        static bool Utf8(string? address) => address is not null && !Ascii.IsValid(address);
        if (Utf8(request.Sender) || request.Recipients.Any(r => Utf8(r.Report.Recipient) || Utf8(r.OriginalRecipient)))
        {
            return true;
        }

        if (request.OriginalBody is not { } body)
        {
            return false;
        }

        var span = body.Span;
        int end = span.IndexOf("\r\n\r\n"u8);
        return (end < 0 ? span : span[..end]).IndexOfAnyInRange((byte)0x80, (byte)0xFF) >= 0;
    }

    /// <summary>RFC 3464 §2.2 per-message fields, then §2.3 per-recipient fields, one header group each; in the RFC 6533
    /// form (<paramref name="global"/>) a non-ASCII address is of type <c>utf-8</c>, written in raw UTF-8.</summary>
    private static MessageDeliveryStatus Status(DsnRequest request, bool global)
    {
        var status = new MessageDeliveryStatus();
        if (global)
        {
            status.ContentType.MediaSubtype = "global-delivery-status";
        }

        var perMessage = new HeaderList();
        if (request.EnvId is not null)
        {
            perMessage.Add("Original-Envelope-Id", request.EnvId);
        }

        perMessage.Add("Reporting-MTA", $"dns; {request.ReportingMta}");
        perMessage.Add("X-MailCluster-Queue-ID", request.OriginalMessageId);
        perMessage.Add("Arrival-Date", DateUtils.FormatDate(request.ArrivedAt));
        status.StatusGroups.Add(perMessage);
        foreach (var (r, original) in request.Recipients)
        {
            var group = new HeaderList();
            if (original is not null)
            {
                AddAddress(group, "Original-Recipient", original, global);
            }

            AddAddress(group, "Final-Recipient", global && !Ascii.IsValid(r.Recipient) ? $"utf-8; {r.Recipient}" : $"rfc822; {r.Recipient}", global);
            group.Add("Action", r.Action);
            group.Add("Status", r.Status);
            if (r.RemoteMta is not null)
            {
                group.Add("Remote-MTA", $"dns; {HostOf(r.RemoteMta)}");
            }

            if (r.Code > 0)
            {
                group.Add("Diagnostic-Code", $"smtp; {Diagnostic(r)}");
            }

            group.Add("Last-Attempt-Date", DateUtils.FormatDate(r.At));
            status.StatusGroups.Add(group);
        }

        return status;
    }

    /// <summary>A non-ASCII value in a global DSN goes raw (RFC 6533 §6.2 allows UTF-8 there), not RFC 2047-encoded.</summary>
    private static void AddAddress(HeaderList group, string field, string value, bool global)
    {
        var header = new Header(field, value);
        if (global && !Ascii.IsValid(value))
        {
            header.SetRawValue(Encoding.UTF8.GetBytes($" {value}\r\n"));
        }

        group.Add(header);
    }

    private static string Diagnostic(DsnReport r) => r.Code > 0
        ? string.Create(CultureInfo.InvariantCulture, $"{r.Code} {r.Status} {r.Text}").TrimEnd()
        : $"{r.Status} {r.Text}".TrimEnd();

    /// <summary>"mx1.example.com[192.0.2.1]" → "mx1.example.com".</summary>
    private static string HostOf(string remote)
    {
        int bracket = remote.IndexOf('[', StringComparison.Ordinal);
        return bracket > 0 ? remote[..bracket] : remote;
    }

    private static MimeEntity Original(ReadOnlyMemory<byte> body, string? ret, bool global)
    {
        if (string.Equals(ret, "FULL", StringComparison.OrdinalIgnoreCase))
        {
            using var full = new MemoryStream(body.ToArray(), writable: false);
            return new MessagePart(global ? "global" : "rfc822") { Message = MimeMessage.Load(full) };
        }

        var span = body.Span;
        int end = span.IndexOf("\r\n\r\n"u8);
        byte[] headers = (end < 0 ? span : span[..(end + 2)]).ToArray();
        return new MimePart(global ? "message" : "text", global ? "global-headers" : "rfc822-headers")
        {
            Content = new MimeContent(new MemoryStream(headers, writable: false)),
            ContentTransferEncoding = headers.Any(b => b >= 0x80) ? ContentEncoding.EightBit : ContentEncoding.SevenBit,
        };
    }
}
