using Microsoft.Extensions.Configuration;

namespace MailCluster.Events;

/// <summary>Configuration section <c>MailCluster:Events</c>.</summary>
public sealed class EventsOptions
{
    public const string Section = "MailCluster:Events";

    /// <summary>Days events are kept before pruning (<c>MailCluster__Events__RetentionDays</c>, default 7).</summary>
    public int RetentionDays { get; set; } = 7;

    /// <summary>Minutes events are kept, instead of <see cref="RetentionDays"/> (<c>MailCluster__Events__RetentionMinutes</c>):
    /// for a busy node that keeps hours, not days (about 2 KB per relayed message). Null: <see cref="RetentionDays"/>.</summary>
    public int? RetentionMinutes { get; set; }

    /// <summary>How long events are kept: <see cref="RetentionMinutes"/> when given, else <see cref="RetentionDays"/>.</summary>
    public TimeSpan Retention => RetentionMinutes is { } minutes ? TimeSpan.FromMinutes(minutes) : TimeSpan.FromDays(RetentionDays);

    /// <summary>How often expired events are pruned: a fifth of the retention, at least every 30 s and at most every
    /// ten minutes, so that a short retention holds the store near its size instead of a ten-minute backlog above it.</summary>
    public TimeSpan PruneInterval => TimeSpan.FromSeconds(Math.Clamp(Retention.TotalSeconds / 5, 30, 600));

    /// <summary>False: no projection and no webhook delivery on this node (the journal still carries the details, so
    /// turning it on later projects everything still in the journal). For measuring the cost (bench/events.sh).</summary>
    public bool Enabled { get; set; } = true;
}

/// <summary>One configured webhook, <c>MailCluster:Webhooks:N</c>.</summary>
public sealed class WebhookOptions
{
    public string? Url { get; set; }

    public string? Secret { get; set; }

    /// <summary>Event types to send (<c>__Events__M</c>); empty: every type.</summary>
    public List<string> Events { get; set; } = [];

    public int BatchSize { get; set; } = 1;

    public int? MaxRetrySeconds { get; set; }
}

/// <summary>Configuration section <c>MailCluster:Webhooks</c>: the numbered webhooks and the node-wide settings.</summary>
public sealed class WebhooksOptions
{
    public const string Section = "MailCluster:Webhooks";

    /// <summary>How long a failing batch is retried (exponential backoff) before it is recorded as failed; default 24 h.</summary>
    public int MaxRetrySeconds { get; set; } = 86_400;

    /// <summary>Time allowed for one POST, default 10 s.</summary>
    public int TimeoutSeconds { get; set; } = 10;

    /// <summary>Longest wait between two tries of a failing batch, default 600 s.</summary>
    public int MaxBackoffSeconds { get; set; } = 600;

    public List<WebhookOptions> Hooks { get; } = [];
}

/// <summary>Binds and checks <see cref="EventsOptions"/> and <see cref="WebhooksOptions"/>; every problem names its key.</summary>
public static class EventsConfiguration
{
    private static readonly string[] EventKeys = [nameof(EventsOptions.RetentionDays), nameof(EventsOptions.RetentionMinutes), nameof(EventsOptions.Enabled)];
    private static readonly string[] NodeWide = ["MaxRetrySeconds", "TimeoutSeconds", "MaxBackoffSeconds"];
    private static readonly string[] HookKeys = ["Url", "Secret", "Events", "BatchSize", "MaxRetrySeconds"];

    /// <returns>The options, and (key, problem) pairs for the caller to report.</returns>
    public static (EventsOptions Events, WebhooksOptions Webhooks, List<(string Key, string Problem)> Problems) Load(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var problems = new List<(string, string)>();
        var events = new EventsOptions();
        var eventsSection = configuration.GetSection(EventsOptions.Section);
        foreach (var child in eventsSection.GetChildren().Where(c => !EventKeys.Contains(c.Key, StringComparer.OrdinalIgnoreCase)))
        {
            problems.Add((child.Path, "unknown key"));
        }

        if (eventsSection[nameof(EventsOptions.Enabled)] is { } enabled)
        {
            if (bool.TryParse(enabled, out var on))
            {
                events.Enabled = on;
            }
            else
            {
                problems.Add(($"{EventsOptions.Section}:{nameof(EventsOptions.Enabled)}", $"must be true or false, not '{enabled}'"));
            }
        }

        events.RetentionDays = Int(eventsSection, nameof(EventsOptions.RetentionDays), 7, 1, 3650, problems);
        if (eventsSection[nameof(EventsOptions.RetentionMinutes)] is not null)
        {
            events.RetentionMinutes = Int(eventsSection, nameof(EventsOptions.RetentionMinutes), 60, 1, 3650 * 1440, problems);
            if (eventsSection[nameof(EventsOptions.RetentionDays)] is not null)
            {
                problems.Add(($"{EventsOptions.Section}:{nameof(EventsOptions.RetentionMinutes)}",
                    $"give {nameof(EventsOptions.RetentionDays)} or {nameof(EventsOptions.RetentionMinutes)}, not both"));
            }
        }
        var hooks = new WebhooksOptions();
        var section = configuration.GetSection(WebhooksOptions.Section);
        hooks.MaxRetrySeconds = Int(section, nameof(WebhooksOptions.MaxRetrySeconds), hooks.MaxRetrySeconds, 1, 30 * 86_400, problems);
        hooks.TimeoutSeconds = Int(section, nameof(WebhooksOptions.TimeoutSeconds), hooks.TimeoutSeconds, 1, 300, problems);
        hooks.MaxBackoffSeconds = Int(section, nameof(WebhooksOptions.MaxBackoffSeconds), hooks.MaxBackoffSeconds, 1, 86_400, problems);
        foreach (var child in section.GetChildren().Where(c => !NodeWide.Contains(c.Key, StringComparer.OrdinalIgnoreCase)))
        {
            if (!int.TryParse(child.Key, out _))
            {
                problems.Add((child.Path, "unknown key (webhooks are numbered: MailCluster:Webhooks:0:Url)"));
                continue;
            }

            foreach (var key in child.GetChildren().Where(k => !HookKeys.Contains(k.Key, StringComparer.OrdinalIgnoreCase)))
            {
                problems.Add((key.Path, "unknown key"));
            }

            var hook = new WebhookOptions
            {
                Url = child["Url"],
                Secret = child["Secret"],
                BatchSize = Int(child, "BatchSize", 1, 1, Webhooks.WebhookDefinition.MaxBatchSize, problems),
                MaxRetrySeconds = child["MaxRetrySeconds"] is null ? null : Int(child, "MaxRetrySeconds", 0, 1, 30 * 86_400, problems),
            };
            if (Webhooks.WebhookDefinition.CheckUrl(hook.Url) is { } bad)
            {
                problems.Add(($"{child.Path}:Url", bad));
            }

            if (string.IsNullOrEmpty(hook.Secret))
            {
                problems.Add(($"{child.Path}:Secret", "required: the key the receiver checks MailCluster-Signature with"));
            }

            foreach (var type in child.GetSection("Events").GetChildren())
            {
                if (EventTypes.Parse(type.Value) is { } known)
                {
                    hook.Events.Add(known);
                }
                else
                {
                    problems.Add((type.Path, $"unknown event type '{type.Value}'; one of {string.Join(", ", EventTypes.All)}"));
                }
            }

            hooks.Hooks.Add(hook);
        }

        return (events, hooks, problems);
    }

    private static int Int(IConfiguration section, string key, int fallback, int min, int max, List<(string, string)> problems)
    {
        var text = section[key];
        if (text is null)
        {
            return fallback;
        }

        if (int.TryParse(text, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var value) && value >= min && value <= max)
        {
            return value;
        }

        problems.Add(((section as IConfigurationSection)?.Path + ":" + key, $"must be a whole number from {min} to {max}, not '{text}'"));
        return fallback;
    }
}
