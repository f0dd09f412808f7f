namespace MailCluster.Edge.Auth;

/// <summary>
/// Base64 (RFC 4648 §4, with padding) that refuses what <see cref="Convert.TryFromBase64String"/> tolerates:
/// white space anywhere and characters outside the alphabet. SASL responses (RFC 4954 §4) and stored hashes
/// are single tokens, so anything else is an error rather than something to repair.
/// </summary>
internal static class StrictBase64
{
    public static bool TryDecode(string text, out byte[] bytes)
    {
        bytes = [];
        if (text.Length % 4 != 0)
        {
            return false;
        }

        foreach (var c in text)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '+' or '/' or '='))
            {
                return false;
            }
        }

        var buffer = new byte[text.Length / 4 * 3];
        if (!Convert.TryFromBase64String(text, buffer, out var written))
        {
            return false;
        }

        bytes = buffer.AsSpan(0, written).ToArray();
        return true;
    }
}
