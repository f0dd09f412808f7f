using System.Globalization;
using System.Text;

namespace MailCluster.Smtp;

/// <summary>xtext (RFC 3461 §4): printable ASCII except '+' and '=', with "+XX" hex escapes.</summary>
public static class Xtext
{
    /// <summary>Decodes "+XX" escapes; the input is assumed validated (<see cref="SmtpSyntax.IsXtext"/>).</summary>
    public static string Decode(string xtext)
    {
        ArgumentNullException.ThrowIfNull(xtext);
        if (!xtext.Contains('+', StringComparison.Ordinal))
        {
            return xtext;
        }

        var bytes = new List<byte>(xtext.Length);
        for (var i = 0; i < xtext.Length; i++)
        {
            if (xtext[i] == '+' && i + 2 < xtext.Length
                && byte.TryParse(xtext.AsSpan(i + 1, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var b))
            {
                bytes.Add(b);
                i += 2;
            }
            else
            {
                bytes.AddRange(Encoding.UTF8.GetBytes(xtext[i].ToString()));
            }
        }

        return Encoding.UTF8.GetString(bytes.ToArray());
    }
}
