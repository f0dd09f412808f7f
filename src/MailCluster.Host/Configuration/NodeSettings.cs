using System.Net;
using MailCluster.Edge;
using MailCluster.Edge.Policy;
using MailCluster.Ops;
using MailCluster.Outbound;
using MailCluster.Queue;
using MailCluster.Queue.Buckets;
using MailCluster.Storage;
using Microsoft.Extensions.Configuration;

namespace MailCluster.Host.Configuration;

/// <summary>
/// Every options class of the node, bound from configuration (appsettings.json, then environment variables
/// such as <c>MailCluster__Smtp__MxPort</c>) and validated once at start. Unknown keys under
/// <c>MailCluster</c> are errors too: a mistyped variable must not be silently ignored.
/// </summary>
public sealed partial record NodeSettings(
    NodeOptions Node,
    ClusterNodeOptions Cluster,
    SmtpOptions Smtp,
    DomainsOptions Domains,
    OutboundOptions Outbound,
    DnsOptions Dns,
    RetryOptions Retry,
    QueueOptions Queue,
    StorageOptions Storage,
    OpsOptions Ops,
    IReadOnlyList<QueueBucketOptions> Buckets)
{
    /// <summary>Bound apart from <see cref="QueueOptions"/> (which belongs to the queue component) under the same section.</summary>
    private const string BucketsSection = "MailCluster:Queue:Buckets";

    private static readonly string[] KnownSections =
        ["DataDir", "Hostname", "Cluster", "Smtp", "Domains", "Outbound", "Dns", "Retry", "Queue", "Storage", "Ops", "Dkim", "TlsRpt"];

    public static NodeSettings Load(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var errors = new List<string>();
        foreach (var child in configuration.GetSection(NodeOptions.Section).GetChildren())
        {
            if (!KnownSections.Contains(child.Key, StringComparer.OrdinalIgnoreCase))
            {
                errors.Add($"{ConfigurationKeys.Describe(child.Path)}: unknown key");
            }
        }

        var node = new NodeOptions();
        Bind(configuration, NodeOptions.Section, node, errors, topLevelOnly: true);
        var settings = new NodeSettings(
            node,
            Bind(configuration, ClusterNodeOptions.Section, new ClusterNodeOptions(), errors),
            Bind(configuration, SmtpOptions.Section, new SmtpOptions(), errors),
            Bind(configuration, DomainsOptions.Section, new DomainsOptions(), errors),
            Bind(configuration, OutboundOptions.Section, new OutboundOptions(), errors),
            Bind(configuration, DnsOptions.Section, new DnsOptions(), errors),
            Bind(configuration, RetryOptions.Section, new RetryOptions(), errors),
            Bind(configuration, QueueOptions.Section, new QueueOptions(), errors),
            Bind(configuration, StorageOptions.Section, new StorageOptions(), errors),
            Bind(configuration, OpsOptions.Section, new OpsOptions(), errors),
            BindBuckets(configuration, errors))
        {
            Dkim = BindDkim(configuration, errors),
        };
        UnknownKeys(configuration.GetSection(MailCluster.Queue.Sweep.OrphanSweepOptions.Section), typeof(MailCluster.Queue.Sweep.OrphanSweepOptions), errors);
        UnknownKeys(configuration.GetSection(MailCluster.Edge.Auth.OAuthOptions.Section), typeof(MailCluster.Edge.Auth.OAuthOptions), errors);
        if (errors.Count == 0)
        {
            errors.AddRange(NodeSettingsValidator.Validate(settings));
        }

        if (errors.Count == 0 && settings.Storage.IsPostgreSql)
        {
            // A postgresql:// URI (CloudNativePG's Secret key "uri") becomes the Npgsql form every consumer reads.
            settings.Storage.ConnectionString = MailCluster.Storage.PostgresConnectionString.ToNpgsql(MailCluster.Storage.PostgresConnectionString.Configured(settings.Storage).Value!);
        }

        return errors.Count == 0 ? settings : throw new ConfigurationException(errors);
    }

    private static T Bind<T>(IConfiguration configuration, string section, T target, List<string> errors, bool topLevelOnly = false)
        where T : class
    {
        var config = configuration.GetSection(section);
        var properties = Bindable(typeof(T));
        if (!topLevelOnly)
        {
            UnknownKeys(config, typeof(T), errors);
        }

        try
        {
            if (topLevelOnly)
            {
                // Only the scalar keys directly under MailCluster belong to NodeOptions.
                foreach (var property in properties.Where(p => p.PropertyType == typeof(string)))
                {
                    if (config[property.Name] is { } value)
                    {
                        property.SetValue(target, value);
                    }
                }

                return target;
            }

            config.Bind(target);
        }
        catch (InvalidOperationException ex)
        {
            var key = FailedKey().Match(ex.Message) is { Success: true } m ? m.Groups[1].Value : section;
            errors.Add($"{ConfigurationKeys.Describe(key)}: {ex.Message}");
        }

        return target;
    }

    private static List<System.Reflection.PropertyInfo> Bindable(Type type) =>
        type.GetProperties().Where(p => p.CanWrite || !p.PropertyType.IsValueType && p.PropertyType != typeof(string)).ToList();

    /// <summary>Keys directly under <paramref name="config"/> that name no property of <paramref name="type"/>.</summary>
    private static void UnknownKeys(IConfigurationSection config, Type type, List<string> errors)
    {
        var properties = Bindable(type);
        foreach (var child in config.GetChildren())
        {
            if (!properties.Any(p => string.Equals(p.Name, child.Key, StringComparison.OrdinalIgnoreCase))
                && !string.Equals(child.Path, BucketsSection, StringComparison.OrdinalIgnoreCase))
            {
                errors.Add($"{ConfigurationKeys.Describe(child.Path)}: unknown key");
            }
        }
    }

    private static List<QueueBucketOptions> BindBuckets(IConfiguration configuration, List<string> errors)
    {
        var buckets = new List<QueueBucketOptions>();
        foreach (var entry in configuration.GetSection(BucketsSection).GetChildren())
        {
            buckets.Add(Bind(configuration, entry.Path, new QueueBucketOptions(), errors));
        }

        return buckets;
    }

    /// <summary>The DKIM signing keys (<c>MailCluster:Dkim:Domains:N</c>), the edge's; unknown keys inside entries are errors too.</summary>
    public MailCluster.Edge.Dkim.DkimOptions Dkim { get; init; } = new();

    private static MailCluster.Edge.Dkim.DkimOptions BindDkim(IConfiguration configuration, List<string> errors)
    {
        var section = MailCluster.Edge.Dkim.DkimOptions.Section;
        UnknownKeys(configuration.GetSection(section), typeof(MailCluster.Edge.Dkim.DkimOptions), errors);
        var options = new MailCluster.Edge.Dkim.DkimOptions();
        foreach (var entry in configuration.GetSection(section + ":Domains").GetChildren())
        {
            options.Domains.Add(Bind(configuration, entry.Path, new MailCluster.Edge.Dkim.DkimDomainOptions(), errors));
        }

        return options;
    }

    [System.Text.RegularExpressions.GeneratedRegex("at '([^']+)'")]
    private static partial System.Text.RegularExpressions.Regex FailedKey();

    /// <summary>The hot-domain buckets (<c>MailCluster:Queue:Buckets</c>) by normalised domain.</summary>
    public DomainBuckets DomainBuckets =>
        new(Buckets.ToDictionary(b => DomainKey.Normalize(b.Domain), b => b.Count, StringComparer.Ordinal));

    /// <summary>The delivery-queue feature's part of the configuration.</summary>
    public DeliveryQueueSettings DeliveryQueue => new(Queue, Retry, DomainBuckets, Node.Hostname, Cluster.EffectiveRoles);

    public static bool IsValidCidr(string text) => IpNetwork.TryParse(text, out _);

    public static bool IsValidHostPort(string text, bool portRequired)
    {
        var colon = text.LastIndexOf(':');
        if (colon < 0)
        {
            return !portRequired && Uri.CheckHostName(text) != UriHostNameType.Unknown;
        }

        return colon > 0
            && int.TryParse(text.AsSpan(colon + 1), out var port) && port is > 0 and < 65536
            && (IPAddress.TryParse(text[..colon], out _) || Uri.CheckHostName(text[..colon]) != UriHostNameType.Unknown);
    }
}
