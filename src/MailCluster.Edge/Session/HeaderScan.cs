using System.Text;

namespace MailCluster.Edge.Session;

/// <summary>Looks at the header section of raw message text (RFC 5322 §2.2) without parsing the message.</summary>
public static class HeaderScan
{
    /// <summary>Counts "Received:" fields, for loop detection.</summary>
    public static int CountReceived(ReadOnlySpan<byte> text) => CountField(text, "Received"u8);

    /// <summary>True when the header section has a field named <paramref name="name"/> (e.g. "Message-ID").</summary>
    public static bool HasField(ReadOnlySpan<byte> text, string name) => CountField(text, Encoding.ASCII.GetBytes(name)) > 0;

    /// <summary>Fields named <paramref name="name"/> (case-insensitive, at the start of a line, followed by ':')
    /// before the first empty line.</summary>
    public static int CountField(ReadOnlySpan<byte> text, ReadOnlySpan<byte> name)
    {
        var count = 0;
        while (!text.IsEmpty)
        {
            var end = text.IndexOf("\r\n"u8);
            var line = end < 0 ? text : text[..end];
            if (line.IsEmpty)
            {
                break;
            }

            if (line.Length > name.Length && line[name.Length] == (byte)':' && Ascii.EqualsIgnoreCase(line[..name.Length], name))
            {
                count++;
            }

            text = end < 0 ? [] : text[(end + 2)..];
        }

        return count;
    }

    /// <summary>The Message-ID field's value (unfolded, trimmed) from the header section, or null without one.</summary>
    public static string? MessageId(ReadOnlySpan<byte> text)
    {
        const int MaxLength = 998; // RFC 5322 §2.1.1: a longer value is not a Message-ID worth logging whole
        StringBuilder? value = null;
        while (!text.IsEmpty)
        {
            var end = text.IndexOf("\r\n"u8);
            var line = end < 0 ? text : text[..end];
            if (line.IsEmpty)
            {
                break;
            }

            if (value is not null)
            {
                if (line[0] is not ((byte)' ' or (byte)'\t'))
                {
                    break;
                }

                value.Append(Encoding.UTF8.GetString(line).Trim());
            }
            else if (line.Length >= 11 && line[10] == (byte)':' && Ascii.EqualsIgnoreCase(line[..10], "Message-ID"u8))
            {
                value = new StringBuilder(Encoding.UTF8.GetString(line[11..]).Trim());
            }

            text = end < 0 ? [] : text[(end + 2)..];
        }

        return value is null ? null : value.Length > MaxLength ? value.ToString(0, MaxLength) : value.ToString();
    }
}
