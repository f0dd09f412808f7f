using MailCluster.Events;
using Microsoft.Extensions.Configuration;
using Xunit;

namespace MailCluster.Host.Tests;

/// <summary>
/// The node's start-up validation (NodeSettings.Load, NodeSettingsValidator): one bad setting gives one error, and
/// that error names the key both ways an operator meets it, <c>MailCluster:Smtp:MxPort</c> in appsettings.json and
/// <c>MailCluster__Smtp__MxPort</c> in the environment (T04 checks the same over a node process and its exit code).
/// </summary>
public class NodeSettingsValidatorTests
{
    /// <param name="key">The key the error must name, below <c>MailCluster:</c>.</param>
    /// <param name="settings"><c>Key=Value</c> pairs below <c>MailCluster:</c>.</param>
    [Theory]
    // Keys that do not exist, and values that do not bind.
    [InlineData("Smtp:MxPrt", "Smtp:MxPrt=25")]
    [InlineData("Mail", "Mail:Relay=x")]
    [InlineData("Queue:OrphanSweep:Interval", "Queue:OrphanSweep:Interval=60")]
    [InlineData("Smtp:MxPort", "Smtp:MxPort=twenty-five")]
    // Listeners.
    [InlineData("Smtp:MxPort", "Smtp:MxPort=70000")]
    [InlineData("Smtp:SubmissionPort", "Smtp:SubmissionPort=0")]
    [InlineData("Smtp:SubmissionsPort", "Smtp:SubmissionsPort=65536")]
    [InlineData("Smtp:TlsCipherProfile", "Smtp:TlsCipherProfile=legacy")]
    [InlineData("Ops:Port", "Ops:Port=0")]
    [InlineData("Smtp", "Smtp:MxPort=2587")]
    [InlineData("Smtp:TrustedNetworks:0", "Smtp:TrustedNetworks:0=10.0.0.0/99")]
    [InlineData("Smtp:MaxMessageSize", "Smtp:MaxMessageSize=0")]
    [InlineData("Smtp:MaxRecipients", "Smtp:MaxRecipients=0")]
    [InlineData("Smtp:MaxCommandLineLength", "Smtp:MaxCommandLineLength=511")]
    [InlineData("Smtp:IdleTimeoutSeconds", "Smtp:IdleTimeoutSeconds=0")]
    [InlineData("Smtp:MaxConnections", "Smtp:MaxConnections=0")]
    [InlineData("Smtp:MaxConnectionsPerClient", "Smtp:MaxConnectionsPerClient=0")]
    [InlineData("Smtp:MaxMessagesPerConnection", "Smtp:MaxMessagesPerConnection=0")]
    [InlineData("Smtp:MinDataRateBytesPerSecond", "Smtp:MinDataRateBytesPerSecond=-1")]
    [InlineData("Smtp:DataRateGraceSeconds", "Smtp:DataRateGraceSeconds=0")]
    [InlineData("Smtp:MaxAuthFailures", "Smtp:MaxAuthFailures=0")]
    [InlineData("Smtp:AuthFailureDelayMilliseconds", "Smtp:AuthFailureDelayMilliseconds=-1")]
    [InlineData("Smtp:GreetingDelayMilliseconds", "Smtp:GreetingDelayMilliseconds=60001")]
    [InlineData("Smtp:DrainTimeoutSeconds", "Smtp:DrainTimeoutSeconds=-1")]
    [InlineData("Smtp:Users:0:PasswordHash", "Smtp:Users:0:Name=ann", "Smtp:Users:0:PasswordHash=secret")]
    // OAuth2 for SMTP AUTH.
    [InlineData("Smtp:OAuth:Autority", "Smtp:OAuth:Autority=https://issuer.test")]
    [InlineData("Smtp:OAuth:Authority", "Smtp:OAuth:Authority=not a url", "Smtp:OAuth:Audience=smtp")]
    [InlineData("Smtp:OAuth:Authority", "Smtp:OAuth:Authority=http://issuer.test", "Smtp:OAuth:Audience=smtp")]
    [InlineData("Smtp:OAuth:Authority", "Smtp:OAuth:Authority=https://issuer.test/?tenant=1", "Smtp:OAuth:Audience=smtp")]
    [InlineData("Smtp:OAuth:Authority", "Smtp:OAuth:Audience=smtp")]
    [InlineData("Smtp:OAuth:Audience", "Smtp:OAuth:Authority=https://issuer.test")]
    [InlineData("Smtp:OAuth:Scope", "Smtp:OAuth:Authority=https://issuer.test", "Smtp:OAuth:Audience=smtp", "Smtp:OAuth:Scope=smtp send")]
    [InlineData("Smtp:OAuth:UserClaim", "Smtp:OAuth:Authority=https://issuer.test", "Smtp:OAuth:Audience=smtp", "Smtp:OAuth:UserClaim= ")]
    [InlineData("Smtp:OAuth:RequireHttpsMetadata", "Smtp:OAuth:RequireHttpsMetadata=maybe")]
    // The HTTP injection listener.
    [InlineData("Api:Prot", "Api:Prot=8025")]
    [InlineData("Api:Port", "Api:Port=0")]
    [InlineData("Api:Port", "Api:Enabled=true", "Api:Port=2525")]
    [InlineData("Api:BindAddress", "Api:BindAddress=localhost")]
    [InlineData("Api:MaxRequestBytes", "Api:MaxRequestBytes=-1")]
    [InlineData("Api:MaxRecipients", "Api:MaxRecipients=0")]
    [InlineData("Api:MaxAttachmentBytes", "Api:MaxAttachmentBytes=0")]
    [InlineData("Api:IdempotencyHours", "Api:IdempotencyHours=0")]
    [InlineData("Domains:Local:0", "Domains:Local:0=local..test")]
    [InlineData("Domains:Relay:0", "Domains:Relay:0=relay..test")]
    // Outbound and DNS.
    [InlineData("Outbound:Port", "Outbound:Port=0")]
    [InlineData("Outbound:ConnectTimeoutSeconds", "Outbound:ConnectTimeoutSeconds=0")]
    [InlineData("Outbound:DataEndTimeoutSeconds", "Outbound:DataEndTimeoutSeconds=0")]
    [InlineData("Outbound:MaxConnectionsPerDomain", "Outbound:MaxConnectionsPerDomain=0")]
    [InlineData("Outbound:MessagesPerConnection", "Outbound:MessagesPerConnection=0")]
    [InlineData("Outbound:RatePerMinute", "Outbound:RatePerMinute=-1")]
    [InlineData("Outbound:ConnectionIdleSeconds", "Outbound:ConnectionIdleSeconds=0")]
    [InlineData("Outbound:TlsPolicy", "Outbound:TlsPolicy=sometimes")]
    [InlineData("Outbound:Smarthost", "Outbound:Smarthost=carrier-pigeon")]
    [InlineData("Outbound:Domains:0:Name", "Outbound:Domains:0:TlsPolicy=required")]
    [InlineData("Outbound:Domains:0:Route", "Outbound:Domains:0:Name=a.test", "Outbound:Domains:0:Route=carrier-pigeon")]
    [InlineData("Outbound:Domains:0:TlsPolicy", "Outbound:Domains:0:Name=a.test", "Outbound:Domains:0:TlsPolicy=sometimes")]
    [InlineData("Outbound:Domains:0", "Outbound:Domains:0:Name=a.test", "Outbound:Domains:0:MaxConnections=0")]
    [InlineData("Dns:Servers:0", "Dns:Servers:0=127.0.0.1:notaport")]
    [InlineData("Dns:TimeoutSeconds", "Dns:TimeoutSeconds=0")]
    [InlineData("Dns:Retries", "Dns:Retries=-1")]
    // Cluster.
    [InlineData("Cluster:Port", "Cluster:Port=-1")]
    [InlineData("Cluster:Seeds:0", "Cluster:Seeds:0=node1")]
    [InlineData("Cluster:Roles:0", "Cluster:Roles:0=mailer")]
    [InlineData("Cluster:StableAfterSeconds", "Cluster:StableAfterSeconds=0")]
    [InlineData("Cluster:HeartbeatPauseSeconds", "Cluster:HeartbeatPauseSeconds=1")]
    [InlineData("Cluster:DownRemovalMarginSeconds", "Cluster:DownRemovalMarginSeconds=0")]
    [InlineData("Cluster:RebalanceIntervalSeconds", "Cluster:RebalanceIntervalSeconds=601")]
    [InlineData("Cluster:DiscoveryService", "Cluster:DiscoveryService=not a name", "Cluster:Port=4053")]
    [InlineData("Cluster:Port", "Cluster:DiscoveryService=mailcluster.default.svc.cluster.local")]
    [InlineData("Cluster:DiscoveryService", "Cluster:DiscoveryService=mailcluster.local", "Cluster:Port=4053", "Cluster:Seeds:0=10.0.0.1:4053")]
    // Queue, retry, sweep and storage.
    [InlineData("Queue:Buckets:0:Domain", "Queue:Buckets:0:Domain=hot..test", "Queue:Buckets:0:Count=2")]
    [InlineData("Queue:Buckets:1:Domain", "Queue:Buckets:0:Domain=hot.test", "Queue:Buckets:1:Domain=HOT.test.")]
    [InlineData("Queue:Buckets:0:Count", "Queue:Buckets:0:Domain=hot.test", "Queue:Buckets:0:Count=0")]
    [InlineData("Queue:MaxConcurrentDeliveriesPerDomain", "Queue:MaxConcurrentDeliveriesPerDomain=0")]
    [InlineData("Queue:SnapshotEvery", "Queue:SnapshotEvery=0")]
    [InlineData("Storage:JournalCompactionSeconds", "Storage:JournalCompactionSeconds=5")]
    [InlineData("Storage:JournalCompactionSeconds", "Storage:JournalCompactionSeconds=-1")]
    [InlineData("Queue:Shards", "Queue:Shards=0")]
    [InlineData("Queue:EnqueueTimeoutSeconds", "Queue:EnqueueTimeoutSeconds=0")]
    [InlineData("Queue:CommitGraceSeconds", "Queue:CommitGraceSeconds=0")]
    [InlineData("Queue:OrphanSweep:IntervalSeconds", "Queue:OrphanSweep:IntervalSeconds=0")]
    [InlineData("Queue:OrphanSweep:FirstRunSeconds", "Queue:OrphanSweep:FirstRunSeconds=-1")]
    [InlineData("Queue:OrphanSweep:PageSize", "Queue:OrphanSweep:PageSize=5001")]
    [InlineData("Queue:OrphanSweep:AskTimeoutSeconds", "Queue:OrphanSweep:AskTimeoutSeconds=0")]
    [InlineData("Queue:OrphanSweep:MinAgeSeconds", "Queue:OrphanSweep:MinAgeSeconds=60")]
    [InlineData("Retry:InitialSeconds", "Retry:InitialSeconds=0")]
    [InlineData("Retry:MaxSeconds", "Retry:MaxSeconds=10")]
    [InlineData("Retry:MaxAgeSeconds", "Retry:MaxAgeSeconds=0")]
    [InlineData("Retry:Jitter", "Retry:Jitter=0.9")]
    [InlineData("Storage:Provider", "Storage:Provider=Oracle")]
    [InlineData("Storage:ConnectionString", "Storage:Provider=PostgreSql")]
    [InlineData("DataDir", "DataDir= ")]
    [InlineData("Hostname", "Hostname= ")]
    public void One_bad_setting_is_one_error_naming_its_key_both_ways(string key, params string[] settings)
    {
        var error = Assert.Single(NodeSettingsTestConfig.Errors(settings.Select(Setting).ToArray()));

        AssertNames($"MailCluster:{key}", error);
    }

    [Fact]
    public void The_defaults_are_valid() => Assert.Empty(NodeSettingsTestConfig.Errors());

    [Fact]
    public void Every_bad_setting_is_named_at_once()
    {
        var errors = NodeSettingsTestConfig.Errors(
            ("MailCluster:Smtp:MxPort", "0"), ("MailCluster:Retry:Jitter", "2"), ("MailCluster:Storage:Provider", "Oracle"));

        Assert.Equal(3, errors.Count);
        AssertNames("MailCluster:Smtp:MxPort", errors[0]);
        AssertNames("MailCluster:Retry:Jitter", errors[1]);
        AssertNames("MailCluster:Storage:Provider", errors[2]);
    }

    [Fact]
    public void Tls_files_are_set_together_and_exist()
    {
        var existing = typeof(NodeSettingsValidatorTests).Assembly.Location;
        var missing = Path.Combine(Path.GetTempPath(), $"mc-missing-{Guid.NewGuid():N}.pem");

        AssertNames("MailCluster:Smtp:TlsKeyPath", Assert.Single(NodeSettingsTestConfig.Errors(("MailCluster:Smtp:TlsCertificatePath", existing))));
        AssertNames("MailCluster:Smtp:TlsCertificatePath", Assert.Single(NodeSettingsTestConfig.Errors(
            ("MailCluster:Smtp:TlsCertificatePath", missing), ("MailCluster:Smtp:TlsKeyPath", existing))));
        AssertNames("MailCluster:Smtp:TlsKeyPath", Assert.Single(NodeSettingsTestConfig.Errors(
            ("MailCluster:Smtp:TlsCertificatePath", existing), ("MailCluster:Smtp:TlsKeyPath", missing))));
        Assert.Empty(NodeSettingsTestConfig.Errors(("MailCluster:Smtp:TlsCertificatePath", existing), ("MailCluster:Smtp:TlsKeyPath", existing)));
    }

    /// <param name="settings">As above; <c>{ED}</c> stands for a valid Ed25519 key file, <c>{NOTPEM}</c> for a file that holds no key.</param>
    [Theory]
    [InlineData("Dkim:Domain", "Dkim:Domain=a.test")]
    [InlineData("Dkim:Domains:0:Key", "Dkim:Domains:0:Domain=a.test", "Dkim:Domains:0:Selector=s1", "Dkim:Domains:0:KeyPath={ED}", "Dkim:Domains:0:Algorithm=ed25519-sha256", "Dkim:Domains:0:Key=x")]
    [InlineData("Dkim:Domains:0:Domain", "Dkim:Domains:0:Domain=a..test", "Dkim:Domains:0:Selector=s1", "Dkim:Domains:0:KeyPath={ED}", "Dkim:Domains:0:Algorithm=ed25519-sha256")]
    [InlineData("Dkim:Domains:0:Selector", "Dkim:Domains:0:Domain=a.test", "Dkim:Domains:0:Selector=s_1", "Dkim:Domains:0:KeyPath={ED}", "Dkim:Domains:0:Algorithm=ed25519-sha256")]
    [InlineData("Dkim:Domains:0:Algorithm", "Dkim:Domains:0:Domain=a.test", "Dkim:Domains:0:Selector=s1", "Dkim:Domains:0:KeyPath={ED}", "Dkim:Domains:0:Algorithm=rsa-sha1")]
    [InlineData("Dkim:Domains:0:KeyPath", "Dkim:Domains:0:Domain=a.test", "Dkim:Domains:0:Selector=s1", "Dkim:Domains:0:Algorithm=ed25519-sha256")]
    [InlineData("Dkim:Domains:0:KeyPath", "Dkim:Domains:0:Domain=a.test", "Dkim:Domains:0:Selector=s1", "Dkim:Domains:0:KeyPath=/nonexistent/dkim.pem")]
    [InlineData("Dkim:Domains:0:KeyPath", "Dkim:Domains:0:Domain=a.test", "Dkim:Domains:0:Selector=s1", "Dkim:Domains:0:KeyPath={NOTPEM}")]
    [InlineData("Dkim:Domains:1:KeyPath", "Dkim:Domains:0:Domain=a.test", "Dkim:Domains:0:Selector=ed", "Dkim:Domains:0:KeyPath={ED}", "Dkim:Domains:0:Algorithm=ed25519-sha256",
        "Dkim:Domains:1:Domain=a.test", "Dkim:Domains:1:Selector=rsa", "Dkim:Domains:1:KeyPath={ED}", "Dkim:Domains:1:Algorithm=rsa-sha256")]
    public void One_bad_dkim_setting_is_one_error_naming_its_key(string key, params string[] settings)
    {
        var ed = Path.Combine(Path.GetTempPath(), $"mc-dkim-{Guid.NewGuid():N}.pem");
        File.WriteAllText(ed, MailCluster.Edge.Dkim.DkimKeygenCommand.Generate(MimeKit.Cryptography.DkimSignatureAlgorithm.Ed25519Sha256).Pem);
        try
        {
            var notPem = typeof(NodeSettingsValidatorTests).Assembly.Location;
            var pairs = settings.Select(p => Setting(p.Replace("{ED}", ed, StringComparison.Ordinal).Replace("{NOTPEM}", notPem, StringComparison.Ordinal))).ToArray();

            var error = Assert.Single(NodeSettingsTestConfig.Errors(pairs));

            AssertNames($"MailCluster:{key}", error);
        }
        finally
        {
            File.Delete(ed);
        }
    }

    [Fact]
    public void Dual_signing_keys_for_one_domain_are_valid()
    {
        var dir = Directory.CreateTempSubdirectory("mc-dkim-").FullName;
        try
        {
            var rsa = Path.Combine(dir, "rsa.pem");
            var ed = Path.Combine(dir, "ed.pem");
            File.WriteAllText(rsa, MailCluster.Edge.Dkim.DkimKeygenCommand.Generate(MimeKit.Cryptography.DkimSignatureAlgorithm.RsaSha256).Pem);
            File.WriteAllText(ed, MailCluster.Edge.Dkim.DkimKeygenCommand.Generate(MimeKit.Cryptography.DkimSignatureAlgorithm.Ed25519Sha256).Pem);

            Assert.Empty(NodeSettingsTestConfig.Errors(
                ("MailCluster:Dkim:Domains:0:Domain", "a.test"), ("MailCluster:Dkim:Domains:0:Selector", "rsa"),
                ("MailCluster:Dkim:Domains:0:KeyPath", rsa), ("MailCluster:Dkim:Domains:0:Algorithm", "rsa-sha256"),
                ("MailCluster:Dkim:Domains:1:Domain", "a.test"), ("MailCluster:Dkim:Domains:1:Selector", "ed"),
                ("MailCluster:Dkim:Domains:1:KeyPath", ed), ("MailCluster:Dkim:Domains:1:Algorithm", "ed25519-sha256")));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>The error starts with the key as in appsettings.json, then as an environment variable, then says why.</summary>
    private static void AssertNames(string key, string error)
    {
        var named = $"{key} (environment: {key.Replace(":", "__", StringComparison.Ordinal)}): ";
        Assert.StartsWith(named, error, StringComparison.Ordinal);
        Assert.False(string.IsNullOrWhiteSpace(error[named.Length..]), $"the error says what is wrong: {error}");
    }

    private static (string Key, string Value) Setting(string pair)
    {
        var equals = pair.IndexOf('=', StringComparison.Ordinal);
        return ($"MailCluster:{pair[..equals]}", pair[(equals + 1)..]);
    }
}

/// <summary>Delivery events and webhooks (issue 16): each bad setting is one error naming its key.</summary>
public sealed class EventsSettingsTests
{
    [Theory]
    [InlineData("MailCluster:Events:RetentionDays", "MailCluster:Events:RetentionDays=0")]
    [InlineData("MailCluster:Events:Retention", "MailCluster:Events:Retention=7")]
    [InlineData("MailCluster:Events:RetentionMinutes", "MailCluster:Events:RetentionMinutes=0")]
    [InlineData("MailCluster:Events:RetentionMinutes", "MailCluster:Events:RetentionMinutes=90", "MailCluster:Events:RetentionDays=2")]
    [InlineData("MailCluster:Webhooks:MaxRetrySeconds", "MailCluster:Webhooks:MaxRetrySeconds=-1")]
    [InlineData("MailCluster:Webhooks:TimeoutSeconds", "MailCluster:Webhooks:TimeoutSeconds=ten")]
    [InlineData("MailCluster:Webhooks:0:Url", "MailCluster:Webhooks:0:Url=ftp://127.0.0.1/x", "MailCluster:Webhooks:0:Secret=0123456789abcdef")]
    [InlineData("MailCluster:Webhooks:0:Secret", "MailCluster:Webhooks:0:Url=http://127.0.0.1:9/x")]
    [InlineData("MailCluster:Webhooks:0:Events:1", "MailCluster:Webhooks:0:Url=http://127.0.0.1:9/x", "MailCluster:Webhooks:0:Secret=s", "MailCluster:Webhooks:0:Events:0=Bounce", "MailCluster:Webhooks:0:Events:1=Opened")]
    [InlineData("MailCluster:Webhooks:0:BatchSize", "MailCluster:Webhooks:0:Url=http://127.0.0.1:9/x", "MailCluster:Webhooks:0:Secret=s", "MailCluster:Webhooks:0:BatchSize=0")]
    [InlineData("MailCluster:Webhooks:0:Header", "MailCluster:Webhooks:0:Url=http://127.0.0.1:9/x", "MailCluster:Webhooks:0:Secret=s", "MailCluster:Webhooks:0:Header=x")]
    [InlineData("MailCluster:Webhooks:First", "MailCluster:Webhooks:First:Url=http://127.0.0.1:9/x")]
    public void One_bad_setting_is_one_error_naming_its_key(string key, params string[] settings)
    {
        var error = Assert.Single(NodeSettingsTestConfig.Errors([.. settings.Select(s => (s[..s.IndexOf('=', StringComparison.Ordinal)], s[(s.IndexOf('=', StringComparison.Ordinal) + 1)..]))]));
        Assert.Contains(key, error, StringComparison.Ordinal);
        Assert.Contains(key.Replace(":", "__", StringComparison.Ordinal), error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_configured_webhook_and_the_retention_are_read()
    {
        Assert.Empty(NodeSettingsTestConfig.Errors(
            ("MailCluster:Events:RetentionDays", "30"),
            ("MailCluster:Webhooks:MaxRetrySeconds", "3600"),
            ("MailCluster:Webhooks:0:Url", "https://hooks.example.test/mail"),
            ("MailCluster:Webhooks:0:Secret", "0123456789abcdef"),
            ("MailCluster:Webhooks:0:Events:0", "bounce"),
            ("MailCluster:Webhooks:0:BatchSize", "100")));
    }

    [Theory]
    [InlineData(null, "7", 7 * 1440.0, 600.0)]
    [InlineData("90", null, 90.0, 600.0)]
    [InlineData("10", null, 10.0, 120.0)]
    [InlineData("1", null, 1.0, 30.0)]
    public void The_retention_in_days_or_minutes_sets_how_often_pruning_runs(string? minutes, string? days, double retentionMinutes, double pruneSeconds)
    {
        var settings = new Dictionary<string, string?>(StringComparer.Ordinal);
        if (minutes is not null)
        {
            settings["MailCluster:Events:RetentionMinutes"] = minutes;
        }

        if (days is not null)
        {
            settings["MailCluster:Events:RetentionDays"] = days;
        }

        var (events, _, problems) = EventsConfiguration.Load(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        Assert.Empty(problems);
        Assert.Equal(retentionMinutes, events.Retention.TotalMinutes);
        Assert.Equal(pruneSeconds, events.PruneInterval.TotalSeconds);
    }
}
