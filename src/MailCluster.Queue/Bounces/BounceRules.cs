using System.Text.Json;
using System.Text.RegularExpressions;

namespace MailCluster.Queue.Bounces;

/// <summary>One rule: a bounce label and the regular expression that earns it.</summary>
/// <param name="Source">Where the rule came from ("defaults" or the file's path), for error messages.</param>
public sealed record BounceRule(string Label, string Pattern, string Source);

/// <summary>A rules file or the shipped defaults could not be used. The message names the file, the label and the rule.</summary>
public sealed class BounceRulesException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Bounce classification rules, in the order they are tried (the first rule that matches wins, as in KumoMTA's
/// classifier). The file format is JSON, read with System.Text.Json: no third-party parser to keep current, and its
/// errors carry line and byte positions. Shape: <c>{"rules": {"Label": ["regex", ...], ...}}</c>; a label is a
/// KumoMTA-style name (letters and digits), each regex is matched case-insensitively against
/// "<c>code enhanced-code text</c>" (for example <c>550 5.1.1 User unknown</c>).
/// </summary>
public static partial class BounceRules
{
    /// <summary>The resource name of the shipped rules (<c>Bounces/DefaultBounceRules.json</c>).</summary>
    private const string DefaultsResource = "MailCluster.Queue.Bounces.DefaultBounceRules.json";

    /// <summary>The rules shipped with MailCluster.</summary>
    public static IReadOnlyList<BounceRule> Defaults()
    {
        using var stream = typeof(BounceRules).Assembly.GetManifestResourceStream(DefaultsResource)
            ?? throw new BounceRulesException($"the resource {DefaultsResource} is missing from the build");
        using var reader = new StreamReader(stream);
        return Parse(reader.ReadToEnd(), "defaults");
    }

    /// <summary>Parses a rules file's text; every problem is a <see cref="BounceRulesException"/> naming the label and rule.</summary>
    public static IReadOnlyList<BounceRule> Parse(string json, string source)
    {
        ArgumentNullException.ThrowIfNull(json);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException ex)
        {
            throw new BounceRulesException($"{source}: not valid JSON: {ex.Message}", ex);
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object
                || !document.RootElement.TryGetProperty("rules", out var rules)
                || rules.ValueKind != JsonValueKind.Object)
            {
                throw new BounceRulesException($"{source}: must be a JSON object {{\"rules\": {{\"Label\": [\"regex\", ...]}}}}");
            }

            var result = new List<BounceRule>();
            foreach (var label in rules.EnumerateObject())
            {
                if (!LabelName().IsMatch(label.Name))
                {
                    throw new BounceRulesException($"{source}: rules.{label.Name}: a label is a letter then letters or digits (KumoMTA's names, e.g. InvalidRecipient)");
                }

                if (label.Value.ValueKind != JsonValueKind.Array)
                {
                    throw new BounceRulesException($"{source}: rules.{label.Name}: must be an array of regular expressions");
                }

                var index = 0;
                foreach (var item in label.Value.EnumerateArray())
                {
                    if (item.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(item.GetString()))
                    {
                        throw new BounceRulesException($"{source}: rules.{label.Name}[{index}]: must be a non-empty string");
                    }

                    var rule = new BounceRule(label.Name, item.GetString()!, source);
                    _ = Compile(rule, index);
                    result.Add(rule);
                    index++;
                }
            }

            return result;
        }
    }

    /// <summary>
    /// The rules in force: an operator's file is tried first, and a label it defines replaces that label's shipped rules
    /// (so an operator can also narrow a default); the other shipped labels stay after it. With
    /// <paramref name="replaceDefaults"/> only the operator's rules are used.
    /// </summary>
    public static IReadOnlyList<BounceRule> Merge(IReadOnlyList<BounceRule> defaults, IReadOnlyList<BounceRule> overrides, bool replaceDefaults)
    {
        ArgumentNullException.ThrowIfNull(defaults);
        ArgumentNullException.ThrowIfNull(overrides);
        if (replaceDefaults)
        {
            return overrides;
        }

        var redefined = overrides.Select(r => r.Label).ToHashSet(StringComparer.Ordinal);
        return [.. overrides, .. defaults.Where(r => !redefined.Contains(r.Label))];
    }

    /// <summary>
    /// Compiles a rule with the non-backtracking engine, whose matching time is linear in the input whatever the
    /// pattern (no catastrophic backtracking can hang a delivery), and a match timeout as a second bound.
    /// Backreferences and lookarounds are therefore refused, with the rule named.
    /// </summary>
    internal static Regex Compile(BounceRule rule, int index)
    {
        try
        {
            return new Regex(rule.Pattern, RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.NonBacktracking, MatchTimeout);
        }
        catch (Exception ex) when (ex is ArgumentException or NotSupportedException)
        {
            throw new BounceRulesException($"{rule.Source}: rules.{rule.Label}[{index}] '{rule.Pattern}': {ex.Message}", ex);
        }
    }

    /// <summary>Per rule and reply; a reply line is short (bounded), so a linear-time match takes microseconds. The
    /// bound is against the engine itself, not a latency budget: a timeout skips the rule and can mislabel the reply,
    /// and a busy node's scheduling pause, a GC or a rule's first match (its lazily built automaton) took over 50 ms,
    /// the bound before: ProhibitedAttachment came out PolicyRelated in a full test run.</summary>
    internal static readonly TimeSpan MatchTimeout = TimeSpan.FromSeconds(1);

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9]{0,63}$")]
    private static partial Regex LabelName();
}
