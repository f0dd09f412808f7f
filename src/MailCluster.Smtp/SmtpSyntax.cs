using System.Net;
using System.Net.Sockets;

namespace MailCluster.Smtp;

/// <summary>
/// Byte-level grammar of RFC 5321 §4.1.2/§4.1.3, extended for UTF-8 by RFC 6531 §3.3 (any octet ≥ 0x80 is allowed
/// where atext, qtextSMTP or a U-label is; well-formedness of the UTF-8 is checked once per line by the parser).
/// Every method is total: it answers false instead of throwing.
/// </summary>
internal static class SmtpSyntax
{
    public static bool IsAlpha(byte b) => (uint)((b | 0x20) - 'a') <= 'z' - 'a';

    public static bool IsDigit(byte b) => (uint)(b - '0') <= 9;

    public static bool IsLetDig(byte b) => IsAlpha(b) || IsDigit(b);

    /// <summary>atext (RFC 5322 §3.2.3) plus UTF8-non-ascii (RFC 6531 §3.3).</summary>
    public static bool IsAtext(byte b) => IsLetDig(b) || b >= 0x80 || b switch
    {
        (byte)'!' or (byte)'#' or (byte)'$' or (byte)'%' or (byte)'&' or (byte)'\'' or (byte)'*' or (byte)'+' or (byte)'-'
            or (byte)'/' or (byte)'=' or (byte)'?' or (byte)'^' or (byte)'_' or (byte)'`' or (byte)'{' or (byte)'|' or (byte)'}' or (byte)'~' => true,
        _ => false,
    };

    /// <summary>Dot-string = Atom *("." Atom) (RFC 5321 §4.1.2).</summary>
    public static bool IsDotString(ReadOnlySpan<byte> s)
    {
        if (s.IsEmpty || s[0] == '.' || s[^1] == '.')
        {
            return false;
        }

        for (var i = 0; i < s.Length; i++)
        {
            if (s[i] == '.' ? s[i - 1] == '.' : !IsAtext(s[i]))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Length of the Quoted-string (RFC 5321 §4.1.2 QcontentSMTP) starting at s[0] == '"', quotes included; -1 if malformed.</summary>
    public static int QuotedStringLength(ReadOnlySpan<byte> s)
    {
        if (s.IsEmpty || s[0] != '"')
        {
            return -1;
        }

        for (var i = 1; i < s.Length; i++)
        {
            var b = s[i];
            if (b == '"')
            {
                return i + 1;
            }

            if (b == '\\')
            {
                // quoted-pairSMTP = %d92 %d32-126
                if (++i >= s.Length || s[i] < 32 || s[i] > 126)
                {
                    return -1;
                }
            }
            else if (!(b is 32 or 33 or (>= 35 and <= 91) or (>= 93 and <= 126) || b >= 0x80))
            {
                return -1;
            }
        }

        return -1;
    }

    /// <summary>Domain = sub-domain *("." sub-domain), sub-domain = Let-dig [Ldh-str] or a U-label (RFC 5321 §4.1.2,
    /// RFC 6531 §3.3). DNS limits apply: 255 octets in all, 63 per label (RFC 1035 §2.3.4).</summary>
    public static bool IsDomain(ReadOnlySpan<byte> s)
    {
        if (s.IsEmpty || s.Length > 255)
        {
            return false;
        }

        foreach (var range in s.Split((byte)'.'))
        {
            var label = s[range];
            if (label.IsEmpty || label.Length > 63 || label[0] == '-' || label[^1] == '-')
            {
                return false;
            }

            foreach (var b in label)
            {
                if (!(IsLetDig(b) || b == '-' || b >= 0x80))
                {
                    return false;
                }
            }
        }

        return true;
    }

    /// <summary>address-literal = "[" ( IPv4 / "IPv6:" IPv6 / General ) "]" (RFC 5321 §4.1.3), brackets included.</summary>
    public static bool IsAddressLiteral(ReadOnlySpan<byte> s)
    {
        if (s.Length < 3 || s[0] != '[' || s[^1] != ']')
        {
            return false;
        }

        var inner = s[1..^1];
        if (IsIPv4(inner))
        {
            return true;
        }

        var colon = inner.IndexOf((byte)':');
        if (colon <= 0)
        {
            return false;
        }

        var tag = inner[..colon];
        var content = inner[(colon + 1)..];
        if (System.Text.Ascii.EqualsIgnoreCase(tag, "IPv6"u8))
        {
            foreach (var b in content)
            {
                if (!(IsDigit(b) || (uint)((b | 0x20) - 'a') <= 'f' - 'a' || b == ':' || b == '.'))
                {
                    return false;
                }
            }

            return content.Length >= 2 && IPAddress.TryParse(content, out var ip) && ip.AddressFamily == AddressFamily.InterNetworkV6;
        }

        // General-address-literal = Standardized-tag ":" 1*dcontent; dcontent = %d33-90 / %d94-126
        if (!IsLetDig(tag[^1]) || tag.ContainsAnyExcept(LdhChars) || content.IsEmpty)
        {
            return false;
        }

        foreach (var b in content)
        {
            if (!(b is (>= 33 and <= 90) or (>= 94 and <= 126)))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>IPv4-address-literal = Snum 3("." Snum), Snum = 1*3DIGIT in 0..255. Stricter than IPAddress.TryParse,
    /// which also takes "127.1" and hexadecimal forms.</summary>
    public static bool IsIPv4(ReadOnlySpan<byte> s)
    {
        var parts = 0;
        foreach (var range in s.Split((byte)'.'))
        {
            var part = s[range];
            if (++parts > 4 || part.IsEmpty || part.Length > 3 || part.ContainsAnyExceptInRange((byte)'0', (byte)'9'))
            {
                return false;
            }

            var value = 0;
            foreach (var b in part)
            {
                value = (value * 10) + (b - '0');
            }

            if (value > 255)
            {
                return false;
            }
        }

        return parts == 4;
    }

    /// <summary>esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-") (RFC 5321 §4.1.2).</summary>
    public static bool IsEsmtpKeyword(ReadOnlySpan<byte> s) => !s.IsEmpty && IsLetDig(s[0]) && !s.ContainsAnyExcept(LdhChars);

    /// <summary>esmtp-value = 1*(%d33-60 / %d62-126), plus UTF8-non-ascii (RFC 6531 §3.3).</summary>
    public static bool IsEsmtpValue(ReadOnlySpan<byte> s)
    {
        foreach (var b in s)
        {
            if (!(b is (>= 33 and <= 60) or (>= 62 and <= 126) || b >= 0x80))
            {
                return false;
            }
        }

        return !s.IsEmpty;
    }

    /// <summary>xtext (RFC 3461 §4): "+" HEXCHAR HEXCHAR or any of %d33-42 / %d44-60 / %d62-126.</summary>
    public static bool IsXtext(ReadOnlySpan<byte> s)
    {
        for (var i = 0; i < s.Length; i++)
        {
            var b = s[i];
            if (b == '+')
            {
                if (i + 2 >= s.Length || !IsUpperHex(s[i + 1]) || !IsUpperHex(s[i + 2]))
                {
                    return false;
                }

                i += 2;
            }
            else if (!(b is (>= 33 and <= 60) or (>= 62 and <= 126)))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsUpperHex(byte b) => IsDigit(b) || (uint)(b - 'A') <= 'F' - 'A';

    private static readonly System.Buffers.SearchValues<byte> LdhChars =
        System.Buffers.SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-"u8);
}
