namespace MailCluster.Queue.Suppression;

/// <summary>
/// The suppression list (<c>MailCluster:Suppression</c>): <c>ExpiryDays</c> (default 30) is how long an entry lasts
/// unless it is added with its own expiry; <c>Labels:N</c> are the bounce labels whose hard bounces add the recipient
/// automatically (default InvalidRecipient, BadDomain, InactiveMailbox; an empty list turns that off only if
/// <c>AutoSuppress</c> is false, since configuration binding cannot express an empty list).
/// </summary>
public sealed class SuppressionOptions
{
    public const string Section = "MailCluster:Suppression";

    public static readonly string[] DefaultLabels = ["InvalidRecipient", "BadDomain", "InactiveMailbox"];

    public int ExpiryDays { get; set; } = 30;

    /// <summary>Bounce labels that add a hard-bounced recipient; the defaults when none are configured.</summary>
    public List<string> Labels { get; init; } = [];

    /// <summary>False: hard bounces never add entries (the list is managed only through the API and CLI).</summary>
    public bool AutoSuppress { get; set; } = true;

    public IReadOnlyCollection<string> EffectiveLabels => Labels.Count == 0 ? DefaultLabels : Labels;

    public TimeSpan Expiry => TimeSpan.FromDays(ExpiryDays);

    /// <summary>Problems as (key, problem) pairs for the node's start-up validation.</summary>
    public IEnumerable<(string Key, string Problem)> Problems()
    {
        if (ExpiryDays is < 1 or > 3650)
        {
            yield return ($"{Section}:ExpiryDays", $"must be 1-3650 days, got {ExpiryDays}");
        }

        for (var i = 0; i < Labels.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(Labels[i]))
            {
                yield return ($"{Section}:Labels:{i}", "must be a bounce label such as InvalidRecipient");
            }
        }
    }
}
