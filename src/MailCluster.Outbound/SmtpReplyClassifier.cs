using System.Text.RegularExpressions;
using MailCluster.Queue.Delivery;

namespace MailCluster.Outbound;

/// <summary>Turns an SMTP reply into a recipient outcome (STYLE habit 3: decided where it is known).</summary>
public static partial class SmtpReplyClassifier
{
    /// <summary>
    /// RFC 5321 §4.2.1: 2yz → <see cref="OutcomeKind.Delivered"/>, 4yz → <see cref="OutcomeKind.Transient"/>,
    /// anything else (5yz, or a nonsensical code) → <see cref="OutcomeKind.Permanent"/>.
    /// The enhanced code (RFC 3463 / RFC 2034) is taken from the start of <paramref name="text"/> when its class
    /// matches the reply code, else defaults to "X.0.0"; <see cref="RecipientOutcome.Text"/> is the rest of the text.
    /// </summary>
    public static RecipientOutcome Classify(string recipient, int code, string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        char klass = code is >= 200 and < 600 ? (char)('0' + (code / 100)) : '5';
        var kind = klass switch
        {
            '2' => OutcomeKind.Delivered,
            '4' => OutcomeKind.Transient,
            _ => OutcomeKind.Permanent,
        };
        string trimmed = text.Trim();
        var match = EnhancedCode().Match(trimmed);
        if (match.Success && match.Value[0] == klass)
        {
            return new RecipientOutcome(recipient, kind, code, match.Value, trimmed[match.Length..].Trim());
        }

        string defaultEnhanced = kind == OutcomeKind.Permanent ? "5.0.0" : $"{klass}.0.0";
        return new RecipientOutcome(recipient, kind, code, defaultEnhanced, trimmed);
    }

    [GeneratedRegex(@"^[245]\.\d{1,3}\.\d{1,3}(?=\s|$)", RegexOptions.CultureInvariant)]
    private static partial Regex EnhancedCode();
}
