using System.Diagnostics.CodeAnalysis;
using System.Text;
using MailCluster.Smtp;

namespace MailCluster.Edge.Auth;

/// <summary>Decoding of one client response, common to every mechanism (RFC 4954 §4).</summary>
internal static class SaslResponse
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>
    /// Decodes <paramref name="line"/> to UTF-8 text, or explains why not: too long (500 5.5.6), "*" (cancel,
    /// 501), not base64 (501 5.5.2), not UTF-8 (501 5.5.2). <paramref name="isInitial"/>: the line is the AUTH
    /// command's initial-response argument, where "=" stands for a zero-length response.
    /// </summary>
    public static bool TryDecode(string line, bool isInitial, out string text, [NotNullWhen(false)] out SaslFailure? failure)
    {
        ArgumentNullException.ThrowIfNull(line);
        text = string.Empty;
        failure = null;
        if (line.Length > SaslMechanisms.MaxResponseLength)
        {
            failure = new SaslFailure(SmtpReplies.LineTooLong);
        }
        else if (line == "*")
        {
            failure = new SaslFailure(SmtpReplies.AuthCancelled);
        }
        else if (isInitial && line == "=")
        {
            return true;
        }
        else if (!StrictBase64.TryDecode(line, out var bytes))
        {
            failure = new SaslFailure(SaslReplies.BadBase64);
        }
        else if (!TryUtf8(bytes, out text))
        {
            failure = new SaslFailure(SaslReplies.Malformed);
        }

        return failure is null;
    }

    private static bool TryUtf8(byte[] bytes, out string text)
    {
        try
        {
            text = StrictUtf8.GetString(bytes);
            return true;
        }
        catch (DecoderFallbackException)
        {
            text = string.Empty;
            return false;
        }
    }
}
