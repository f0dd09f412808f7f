using MailCluster.Queue.Bounces;

namespace MailCluster.Ops.Suppression;

/// <summary>
/// The bounce rules in force (<c>MailCluster:Bounces</c>): the shipped defaults, with an operator's JSON file
/// (<c>MailCluster__Bounces__RulesPath</c>) tried first; a label the file defines replaces that label's shipped rules,
/// and <c>MailCluster__Bounces__ReplaceDefaults=true</c> uses the file alone.
/// </summary>
public sealed class BounceOptions
{
    public const string Section = "MailCluster:Bounces";

    public string? RulesPath { get; set; }

    public bool ReplaceDefaults { get; set; }
}

public static class BounceHosting
{
    /// <summary>Builds the classifier, or a (key, problem) naming the configuration key and the bad rule.</summary>
    public static (RegexBounceClassifier? Classifier, (string Key, string Problem)? Problem) Load(BounceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var key = $"{BounceOptions.Section}:RulesPath";
        try
        {
            var defaults = BounceRules.Defaults();
            if (string.IsNullOrWhiteSpace(options.RulesPath))
            {
                return options.ReplaceDefaults
                    ? (null, ($"{BounceOptions.Section}:ReplaceDefaults", "needs MailCluster:Bounces:RulesPath (a rules file to replace the defaults with)"))
                    : (new RegexBounceClassifier(defaults), null);
            }

            string text;
            try
            {
                text = File.ReadAllText(options.RulesPath);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                return (null, (key, $"file '{options.RulesPath}' cannot be read: {ex.Message}"));
            }

            var rules = BounceRules.Merge(defaults, BounceRules.Parse(text, options.RulesPath), options.ReplaceDefaults);
            return (new RegexBounceClassifier(rules), null);
        }
        catch (BounceRulesException ex)
        {
            return (null, (key, ex.Message));
        }
    }
}
