using System.Text;

namespace MailCluster.Queue.Events;

/// <summary>
/// The <c>X-MC-Meta-*</c> header fields of a message's header section (RFC 5322 §2.2, unfolded): the delivery events'
/// <c>meta</c> for authenticated submissions (issue 16). The name is what follows the prefix, lower-cased; the value is
/// trimmed; the first field of a name wins. Bounded: at most <see cref="MaxFields"/> fields, names up to 64 and values
/// up to 1,000 characters (longer ones are cut), so a message cannot make its events large.
/// </summary>
public static class MetaHeaders
{
    public const int MaxFields = 32;
    private const int MaxName = 64;
    private const int MaxValue = 1000;
    private static readonly byte[] Prefix = "X-MC-Meta-"u8.ToArray();

    public static IReadOnlyDictionary<string, string> Read(ReadOnlySpan<byte> text)
    {
        Dictionary<string, string>? meta = null;
        string? name = null;
        StringBuilder? value = null;
        while (!text.IsEmpty)
        {
            var end = text.IndexOf("\r\n"u8);
            var line = end < 0 ? text : text[..end];
            if (line.IsEmpty)
            {
                break;
            }

            if (line[0] is (byte)' ' or (byte)'\t')
            {
                value?.Append(' ').Append(Encoding.UTF8.GetString(line).Trim());
            }
            else
            {
                Add(ref meta, name, value);
                (name, value) = (null, null);
                var colon = line.IndexOf((byte)':');
                if (colon > Prefix.Length && Ascii.EqualsIgnoreCase(line[..Prefix.Length], Prefix))
                {
                    name = Encoding.ASCII.GetString(line[Prefix.Length..colon]).Trim().ToLowerInvariant();
                    value = new StringBuilder(Encoding.UTF8.GetString(line[(colon + 1)..]).Trim());
                }
            }

            text = end < 0 ? [] : text[(end + 2)..];
        }

        Add(ref meta, name, value);
        return meta ?? (IReadOnlyDictionary<string, string>)new Dictionary<string, string>(0);
    }

    private static void Add(ref Dictionary<string, string>? meta, string? name, StringBuilder? value)
    {
        if (name is null || value is null || name.Length is 0 or > MaxName || name.Any(c => c <= ' ' || c > '~'))
        {
            return;
        }

        meta ??= new Dictionary<string, string>(StringComparer.Ordinal);
        if (meta.Count < MaxFields)
        {
            meta.TryAdd(name, value.Length > MaxValue ? value.ToString(0, MaxValue) : value.ToString());
        }
    }
}
