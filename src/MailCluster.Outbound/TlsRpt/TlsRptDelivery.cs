using System.Net.Http.Headers;
using MailCluster.Queue;
using MailCluster.Queue.Acceptance;
using MimeKit;

namespace MailCluster.Outbound.TlsRpt;

/// <summary>One report to send: the gzipped JSON and what the mail headers and file name need.</summary>
public sealed record TlsRptDocument(string Domain, string ReportId, DateTimeOffset Start, DateTimeOffset End, byte[] Gzip);

/// <summary>
/// Publishes a report to one <c>rua</c> URI (RFC 8460 §5): <c>mailto:</c> as a message accepted into MailCluster's
/// own queue (so it is retried and bounced like any mail), <c>https:</c> as a POST of application/tlsrpt+gzip.
/// </summary>
public sealed class TlsRptDelivery(IMessageAcceptor? acceptor, HttpClient http, TlsRptOptions options, string submitter)
{
    public async Task<string?> SendAsync(Uri rua, TlsRptDocument report, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(rua);
        ArgumentNullException.ThrowIfNull(report);
        return rua.Scheme == Uri.UriSchemeMailto ? await MailAsync(rua, report, ct).ConfigureAwait(false) : await PostAsync(rua, report, ct).ConfigureAwait(false);
    }

    /// <summary>RFC 8460 §5.3: multipart/report; report-type="tlsrpt", a text part, the application/tlsrpt+gzip part;
    /// TLS-Report-Domain and TLS-Report-Submitter header fields; the subject in the RFC's form.</summary>
    public MimeMessage BuildMessage(string to, TlsRptDocument report)
    {
        ArgumentNullException.ThrowIfNull(report);
        string from = options.ReportSender ?? $"tlsrpt-noreply@{submitter}";
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse(from));
        message.To.Add(MailboxAddress.Parse(to));
        message.Subject = $"Report Domain: {report.Domain} Submitter: {submitter} Report-ID: <{report.ReportId}>";
        message.Date = DateTimeOffset.UtcNow;
        message.MessageId = $"{report.ReportId}@{submitter}";
        message.Headers.Add("TLS-Report-Domain", report.Domain);
        message.Headers.Add("TLS-Report-Submitter", submitter);
        var multipart = new Multipart("report");
        multipart.ContentType.Parameters.Add("report-type", "tlsrpt");
        multipart.Add(new TextPart("plain") { Text = $"This is an aggregate TLS report from {submitter} for {report.Domain}.\r\n" });
        multipart.Add(new MimePart("application", "tlsrpt+gzip")
        {
            Content = new MimeContent(new MemoryStream(report.Gzip)),
            ContentDisposition = new ContentDisposition(ContentDisposition.Attachment)
            {
                FileName = TlsRptReport.FileName(submitter, report.Domain, report.Start, report.End, report.ReportId),
            },
            ContentTransferEncoding = ContentEncoding.Base64,
        });
        message.Body = multipart;
        return message;
    }

    private async Task<string?> MailAsync(Uri rua, TlsRptDocument report, CancellationToken ct)
    {
        if (acceptor is null)
        {
            return "this node has no message acceptor";
        }

        string address = Uri.UnescapeDataString(rua.OriginalString[(rua.Scheme.Length + 1)..].Split('?')[0]);
        var message = BuildMessage(address, report);
        using var buffer = new MemoryStream();
        var format = FormatOptions.Default.Clone();
        format.NewLineFormat = NewLineFormat.Dos; // The spool holds CRLF only (DESIGN invariant 4).
        await message.WriteToAsync(format, buffer, ct).ConfigureAwait(false);
        string sender = message.From.Mailboxes.First().Address;
        var result = await acceptor.AcceptAsync(MessageIds.New(), sender, [address], null, buffer.ToArray(), ct).ConfigureAwait(false);
        return result.Outcome == AcceptOutcome.Accepted ? null : $"{rua}: not queued: {result.Error}";
    }

    private async Task<string?> PostAsync(Uri rua, TlsRptDocument report, CancellationToken ct)
    {
        using var content = new ByteArrayContent(report.Gzip);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/tlsrpt+gzip");
        try
        {
            using var response = await http.PostAsync(rua, content, ct).ConfigureAwait(false);
            return response.IsSuccessStatusCode ? null : $"{rua}: HTTP {(int)response.StatusCode}";
        }
        catch (Exception e) when (!ct.IsCancellationRequested && e is HttpRequestException or TaskCanceledException or IOException)
        {
            return $"{rua}: {e.Message}";
        }
    }
}
