using System.Text.RegularExpressions;
using MailCluster.Queue.Contracts;

namespace MailCluster.Queue.Bounces;

/// <summary>
/// <see cref="IBounceClassifier"/> over ordered rules (<see cref="BounceRules"/>): the label of the first rule whose
/// regular expression matches "<c>code enhanced-code text</c>". Rules are compiled once; a match that times out counts
/// as no match for that rule (the next rules are still tried). Thread-safe: <see cref="Regex"/> matching is.
/// </summary>
public sealed class RegexBounceClassifier : IBounceClassifier
{
    /// <summary>Replies longer than this are cut before matching: a peer cannot make classification cost more.</summary>
    internal const int MaxInputLength = 2048;

    private readonly (string Label, Regex Regex)[] _rules;

    /// <exception cref="BounceRulesException">A rule does not compile.</exception>
    public RegexBounceClassifier(IReadOnlyList<BounceRule> rules)
    {
        ArgumentNullException.ThrowIfNull(rules);
        _rules = rules.Select((r, i) => (r.Label, BounceRules.Compile(r, i))).ToArray();
        Labels = rules.Select(r => r.Label).Distinct(StringComparer.Ordinal).ToArray();
    }

    /// <summary>Every label a rule can give, in rule order.</summary>
    public IReadOnlyList<string> Labels { get; }

    public string? Classify(int code, string? enhancedCode, string text)
    {
        var line = string.IsNullOrEmpty(enhancedCode) ? $"{code} {text}" : $"{code} {enhancedCode} {text}";
        if (line.Length > MaxInputLength)
        {
            line = line[..MaxInputLength];
        }

        foreach (var (label, regex) in _rules)
        {
            try
            {
                if (regex.IsMatch(line))
                {
                    return label;
                }
            }
            catch (RegexMatchTimeoutException)
            {
                // Bounded by BounceRules.MatchTimeout; the reply may still match a later rule.
            }
        }

        return null;
    }
}
