using MimeKit;

namespace MailCluster.Ops.Views;

/// <summary>
/// The header of a spooled message for an operator, bounded whatever the message holds: only the first
/// <see cref="MaxBytes"/> of the body are parsed, at most <see cref="MaxHeaders"/> fields are returned, each value
/// unfolded and cut at <see cref="MaxValueLength"/> characters. Never throws on bad input (MimeKit's parser is
/// lenient; a body that is not a message yields what could be read).
/// </summary>
public static class MessageHeaders
{
    public const int MaxBytes = 64 * 1024;
    public const int MaxHeaders = 100;
    public const int MaxValueLength = 998; // RFC 5322 §2.1.1: the longest line a header may have

    /// <returns>The fields in order, and whether any were left out or cut.</returns>
    public static (IReadOnlyList<HeaderField> Fields, bool Truncated) Parse(ReadOnlyMemory<byte> body)
    {
        var slice = body.Length > MaxBytes ? body[..MaxBytes] : body;
        HeaderList headers;
        try
        {
            using var stream = new MemoryStream(slice.ToArray(), writable: false);
            headers = new MimeParser(stream, MimeFormat.Entity).ParseHeaders();
        }
        catch (FormatException)
        {
            return ([], true);
        }

        bool truncated = headers.Count > MaxHeaders;
        var fields = new List<HeaderField>(Math.Min(headers.Count, MaxHeaders));
        foreach (var header in headers.Take(MaxHeaders))
        {
            var value = string.Join(' ', header.Value.Split(["\r\n", "\n"], StringSplitOptions.None).Select(l => l.Trim())).Trim();
            if (value.Length > MaxValueLength)
            {
                (value, truncated) = (value[..MaxValueLength], true);
            }

            fields.Add(new HeaderField(header.Field, value));
        }

        return (fields, truncated);
    }
}

public sealed record HeaderField(string Name, string Value);
