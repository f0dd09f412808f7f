using System.Globalization;

namespace MailCluster.Outbound.MtaSts;

/// <summary>
/// The strict parser of an MTA-STS policy body (RFC 8461 §3.2); pure, never throws on input. Lines end with LF or
/// CRLF; each is "key: value" (optional whitespace after the colon). "version" must be STSv1, "mode" one of
/// enforce|testing|none, "max_age" 1-10 digits not above 31557600; "mx" may repeat and is required unless the mode
/// is none. The first occurrence of any other known key wins; unknown keys are extensions and ignored (§3.2).
/// </summary>
public static class MtaStsPolicyParser
{
    /// <summary>RFC 8461 §3.2: max_age "up to 31557600" (about one year).</summary>
    public const long MaxAgeLimit = 31_557_600;

    /// <summary>The parsed policy, or null and the reason it is invalid (TLS-RPT "sts-policy-invalid").</summary>
    public static (MtaStsPolicy? Policy, string? Error) Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string? version = null, mode = null, maxAge = null;
        var mx = new List<string>();
        string[] lines = text.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i].EndsWith('\r') ? lines[i][..^1] : lines[i];
            if (line.Length == 0)
            {
                // Only the terminator of the last line may leave an empty line behind (sts-policy-term is optional).
                if (i == lines.Length - 1)
                {
                    continue;
                }

                return (null, $"empty line {i + 1}");
            }

            int colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0 || line.Contains('\r', StringComparison.Ordinal))
            {
                return (null, $"line {i + 1} is not \"key: value\"");
            }

            string key = line[..colon];
            string value = line[(colon + 1)..].Trim(' ', '\t');
            switch (key)
            {
                case "version":
                    version ??= value;
                    break;
                case "mode":
                    mode ??= value;
                    break;
                case "max_age":
                    maxAge ??= value;
                    break;
                case "mx":
                    if (!IsMxPattern(value))
                    {
                        return (null, $"mx \"{value}\" is not a host name or *.domain");
                    }

                    mx.Add(value.ToLowerInvariant());
                    break;
                default:
                    if (!key.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.'))
                    {
                        return (null, $"line {i + 1}: bad key \"{key}\"");
                    }

                    break;
            }
        }

        if (version != "STSv1")
        {
            return (null, version is null ? "version is missing" : $"version \"{version}\" is not STSv1");
        }

        MtaStsMode? parsedMode = mode switch
        {
            "enforce" => MtaStsMode.Enforce,
            "testing" => MtaStsMode.Testing,
            "none" => MtaStsMode.None,
            _ => null,
        };
        if (parsedMode is null)
        {
            return (null, mode is null ? "mode is missing" : $"mode \"{mode}\" is not enforce, testing or none");
        }

        if (maxAge is null || maxAge.Length is 0 or > 10 || !maxAge.All(char.IsAsciiDigit)
            || !long.TryParse(maxAge, NumberStyles.None, CultureInfo.InvariantCulture, out long seconds) || seconds > MaxAgeLimit)
        {
            return (null, maxAge is null ? "max_age is missing" : $"max_age \"{maxAge}\" is not 0-{MaxAgeLimit}");
        }

        if (mx.Count == 0 && parsedMode != MtaStsMode.None)
        {
            return (null, "no mx pattern in a policy of mode " + mode);
        }

        return (new MtaStsPolicy(parsedMode.Value, mx, TimeSpan.FromSeconds(seconds), text), null);
    }

    /// <summary>RFC 8461 §3.2: <c>["*."] Domain</c>, Domain as in RFC 5321 §4.1.2 (LDH labels, at least two).</summary>
    internal static bool IsMxPattern(string value)
    {
        string domain = value.StartsWith("*.", StringComparison.Ordinal) ? value[2..] : value;
        string[] labels = domain.TrimEnd('.').Split('.');
        return labels.Length >= 2 && labels.All(l => l.Length is > 0 and <= 63
            && char.IsAsciiLetterOrDigit(l[0]) && char.IsAsciiLetterOrDigit(l[^1])
            && l.All(c => char.IsAsciiLetterOrDigit(c) || c == '-'));
    }
}
