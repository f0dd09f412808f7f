using MailCluster.Testing;
using MimeKit;
using Xunit;

namespace MailCluster.IntegrationTests.Infrastructure;

/// <summary>Reads an RFC 3464 DSN received at the sink with MimeKit, field by field.</summary>
public sealed record ParsedDsn(MimeMessage Message, HeaderList PerMessage, IReadOnlyList<HeaderList> PerRecipient, MimeEntity? Original)
{
    public HeaderList Recipient(string address) =>
        PerRecipient.Single(g => string.Equals(g["Final-Recipient"], $"rfc822; {address}", StringComparison.OrdinalIgnoreCase));
}

public static class DsnAssert
{
    /// <summary>Waits for a DSN (null reverse-path) to <paramref name="sender"/> at the sink.</summary>
    public static async Task<ParsedDsn> WaitForDsnAsync(this ScriptedSmtpServer sink, string sender, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            var found = sink.Messages.FirstOrDefault(m => m.MailFrom.Length == 0 && m.Recipients.Contains(sender, StringComparer.OrdinalIgnoreCase));
            if (found is not null)
            {
                return Parse(found.Data);
            }

            await Task.Delay(100).ConfigureAwait(false);
        }

        throw new TimeoutException($"no DSN to <{sender}> within {timeout}; received: "
            + string.Join(", ", sink.Messages.Select(m => $"<{m.MailFrom}> → {string.Join('+', m.Recipients)}")));
    }

    public static ParsedDsn Parse(byte[] data)
    {
        using var stream = new MemoryStream(data);
        var message = MimeMessage.Load(stream);
        var report = Assert.IsType<MultipartReport>(message.Body);
        Assert.Equal("delivery-status", report.ReportType);
        Assert.IsType<TextPart>(report[0]);
        var status = Assert.IsType<MessageDeliveryStatus>(report[1]);
        Assert.True(status.StatusGroups.Count >= 2, "a DSN has per-message fields and at least one recipient group");
        return new ParsedDsn(message, status.StatusGroups[0], [.. status.StatusGroups.Skip(1)], report.Count > 2 ? report[2] : null);
    }
}
