using MailCluster.Queue;

namespace MailCluster.Host.Configuration;

/// <summary>Range and shape checks; each error names the key in both of its spellings.</summary>
internal static class NodeSettingsValidator
{
    public static IEnumerable<string> Validate(NodeSettings s)
    {
        var errors = new List<string>();
        void Check(bool ok, string key, string problem)
        {
            if (!ok)
            {
                errors.Add($"{ConfigurationKeys.Describe(key)}: {problem}");
            }
        }

        static bool IsPort(int p) => p is > 0 and < 65536;
        Check(IsPort(s.Smtp.MxPort), "MailCluster:Smtp:MxPort", $"must be a port 1-65535, got {s.Smtp.MxPort}");
        Check(IsPort(s.Smtp.SubmissionPort), "MailCluster:Smtp:SubmissionPort", $"must be a port 1-65535, got {s.Smtp.SubmissionPort}");
        Check(IsPort(s.Smtp.SubmissionsPort), "MailCluster:Smtp:SubmissionsPort", $"must be a port 1-65535, got {s.Smtp.SubmissionsPort}");
        Check(IsPort(s.Ops.Port), "MailCluster:Ops:Port", $"must be a port 1-65535, got {s.Ops.Port}");
        Check(IsPort(s.Outbound.Port), "MailCluster:Outbound:Port", $"must be a port 1-65535, got {s.Outbound.Port}");
        Check(s.Cluster.Port is >= 0 and < 65536, "MailCluster:Cluster:Port", $"must be 0 (any) or a port 1-65535, got {s.Cluster.Port}");
        var ports = new[] { s.Smtp.MxPort, s.Smtp.SubmissionPort, s.Smtp.SubmissionsPort, s.Ops.Port };
        Check(ports.Distinct().Count() == ports.Length, "MailCluster:Smtp", "the SMTP and ops ports must all differ");
        Check(s.Smtp.MaxMessageSize > 0, "MailCluster:Smtp:MaxMessageSize", "must be positive");
        Check(s.Smtp.MaxRecipients >= 1, "MailCluster:Smtp:MaxRecipients", "must be at least 1 (RFC 5321 asks for 100)");
        Check(s.Smtp.MaxCommandLineLength >= 512, "MailCluster:Smtp:MaxCommandLineLength", "must be at least 512 (RFC 5321 §4.5.3.1.4)");
        Check(s.Smtp.IdleTimeoutSeconds > 0, "MailCluster:Smtp:IdleTimeoutSeconds", "must be positive");
        for (var i = 0; i < s.Smtp.TrustedNetworks.Count; i++)
        {
            Check(NodeSettings.IsValidCidr(s.Smtp.TrustedNetworks[i]), $"MailCluster:Smtp:TrustedNetworks:{i}", $"'{s.Smtp.TrustedNetworks[i]}' is not a CIDR network such as 10.0.0.0/8");
        }

        CheckDomains(s.Domains.Local, "MailCluster:Domains:Local", Check);
        CheckDomains(s.Domains.Relay, "MailCluster:Domains:Relay", Check);
        for (var i = 0; i < s.Dns.Servers.Count; i++)
        {
            Check(NodeSettings.IsValidHostPort(s.Dns.Servers[i], portRequired: false), $"MailCluster:Dns:Servers:{i}", $"'{s.Dns.Servers[i]}' is not host:port");
        }

        for (var i = 0; i < s.Cluster.Seeds.Count; i++)
        {
            Check(NodeSettings.IsValidHostPort(s.Cluster.Seeds[i], portRequired: true), $"MailCluster:Cluster:Seeds:{i}", $"'{s.Cluster.Seeds[i]}' is not host:port");
        }

        foreach (var (role, i) in s.Cluster.Roles.Select((r, i) => (r, i)))
        {
            Check(role is "edge" or "delivery", $"MailCluster:Cluster:Roles:{i}", $"'{role}' is not a role (edge, delivery)");
        }

        Check(s.Cluster.StableAfterSeconds is >= 1 and <= 300, "MailCluster:Cluster:StableAfterSeconds", "must be 1-300");
        Check(s.Cluster.HeartbeatPauseSeconds is >= 2 and <= 120, "MailCluster:Cluster:HeartbeatPauseSeconds", "must be 2-120");
        Check(s.Cluster.DownRemovalMarginSeconds is >= 1 and <= 60, "MailCluster:Cluster:DownRemovalMarginSeconds", "must be 1-60");
        Check(s.Cluster.RebalanceIntervalSeconds is >= 1 and <= 600, "MailCluster:Cluster:RebalanceIntervalSeconds", "must be 1-600");
        var discovery = s.Cluster.DiscoveryService;
        Check(discovery is null || Uri.CheckHostName(discovery) == UriHostNameType.Dns, "MailCluster:Cluster:DiscoveryService", $"'{discovery}' is not a DNS name");
        Check(discovery is null || s.Cluster.Port > 0, "MailCluster:Cluster:Port", "must be set (1-65535) with MailCluster:Cluster:DiscoveryService: every node listens on the same port");
        Check(discovery is null || s.Cluster.Seeds.Count == 0, "MailCluster:Cluster:DiscoveryService", "set either the seeds or the discovery service, not both");
        var bucketDomains = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < s.Buckets.Count; i++)
        {
            var key = $"MailCluster:Queue:Buckets:{i}";
            var normalized = DomainKey.TryNormalize(s.Buckets[i].Domain);
            Check(normalized is not null, key + ":Domain", $"'{s.Buckets[i].Domain}' is not a domain name");
            Check(normalized is null || bucketDomains.Add(normalized), key + ":Domain", $"'{s.Buckets[i].Domain}' is listed twice");
            Check(s.Buckets[i].Count is >= 1 and <= 1024, key + ":Count", $"must be 1-1024, got {s.Buckets[i].Count}");
        }

        Check(s.Smtp.MaxConnections >= 1, "MailCluster:Smtp:MaxConnections", "must be at least 1");
        Check(s.Smtp.MaxConnectionsPerClient >= 1, "MailCluster:Smtp:MaxConnectionsPerClient", "must be at least 1");
        Check(s.Smtp.MaxMessagesPerConnection >= 1, "MailCluster:Smtp:MaxMessagesPerConnection", "must be at least 1");
        Check(s.Smtp.MinDataRateBytesPerSecond >= 0, "MailCluster:Smtp:MinDataRateBytesPerSecond", "must not be negative");
        Check(s.Smtp.DataRateGraceSeconds >= 1, "MailCluster:Smtp:DataRateGraceSeconds", "must be at least 1");
        Check(s.Smtp.MaxAuthFailures >= 1, "MailCluster:Smtp:MaxAuthFailures", "must be at least 1");
        Check(s.Smtp.AuthFailureDelayMilliseconds >= 0, "MailCluster:Smtp:AuthFailureDelayMilliseconds", "must not be negative");
        Check(s.Smtp.GreetingDelayMilliseconds is >= 0 and <= 60_000, "MailCluster:Smtp:GreetingDelayMilliseconds", "must be 0-60000");
        Check(s.Smtp.DrainTimeoutSeconds >= 0, "MailCluster:Smtp:DrainTimeoutSeconds", "must not be negative");
        var tlsFiles = new[] { s.Smtp.TlsCertificatePath, s.Smtp.TlsKeyPath }.Count(p => !string.IsNullOrWhiteSpace(p));
        Check(tlsFiles != 1, "MailCluster:Smtp:TlsKeyPath", "MailCluster:Smtp:TlsCertificatePath and MailCluster:Smtp:TlsKeyPath must be set together");
        Check(string.IsNullOrWhiteSpace(s.Smtp.TlsCertificatePath) || File.Exists(s.Smtp.TlsCertificatePath), "MailCluster:Smtp:TlsCertificatePath", $"file '{s.Smtp.TlsCertificatePath}' does not exist");
        Check(string.IsNullOrWhiteSpace(s.Smtp.TlsKeyPath) || File.Exists(s.Smtp.TlsKeyPath), "MailCluster:Smtp:TlsKeyPath", $"file '{s.Smtp.TlsKeyPath}' does not exist");
        Check(MailCluster.Edge.Tls.TlsCipherProfiles.Problem(s.Smtp.TlsCipherProfile) is null, MailCluster.Edge.Tls.TlsCipherProfiles.Key, MailCluster.Edge.Tls.TlsCipherProfiles.Problem(s.Smtp.TlsCipherProfile) ?? "");
        errors.AddRange(new MailCluster.Edge.Auth.UserDirectory(s.Smtp.Users).Validate());
        foreach (var (key, problem) in s.Api.Problems())
        {
            Check(false, MailCluster.Api.ApiOptions.Section + ":" + key, problem);
        }

        Check(!s.Api.Enabled || !ports.Contains(s.Api.Port), "MailCluster:Api:Port", $"port {s.Api.Port} is already an SMTP or ops port");

        foreach (var (key, problem) in MailCluster.Edge.Dkim.DkimHosting.Problems(s.Dkim))
        {
            Check(false, key, problem);
        }

        errors.AddRange(s.Smtp.OAuth.Validate());
        if (MailCluster.Ops.Suppression.BounceHosting.Load(s.Bounces).Problem is { } bounceProblem)
        {
            Check(false, bounceProblem.Key, bounceProblem.Problem);
        }

        foreach (var (key, problem) in s.Suppression.Problems())
        {
            Check(false, key, problem);
        }

        CheckOutbound(s, Check);
        errors.AddRange(MailCluster.Outbound.DestinationPolicies.Problems(s.Outbound).Select(DescribeProblem));
        Check(s.Retry.InitialSeconds > 0, "MailCluster:Retry:InitialSeconds", "must be positive");
        Check(s.Retry.MaxSeconds >= s.Retry.InitialSeconds, "MailCluster:Retry:MaxSeconds", "must be at least MailCluster:Retry:InitialSeconds");
        Check(s.Retry.MaxAgeSeconds > 0, "MailCluster:Retry:MaxAgeSeconds", "must be positive");
        Check(s.Retry.Jitter is >= 0 and <= 0.5, "MailCluster:Retry:Jitter", "must be between 0 and 0.5");
        Check(s.Queue.MaxConcurrentDeliveriesPerDomain >= 1, "MailCluster:Queue:MaxConcurrentDeliveriesPerDomain", "must be at least 1");
        Check(s.Queue.SnapshotEvery >= 1, "MailCluster:Queue:SnapshotEvery", "must be at least 1");
        Check(s.Queue.Shards >= 1, "MailCluster:Queue:Shards", "must be at least 1");
        Check(s.Queue.EnqueueTimeoutSeconds >= 1, "MailCluster:Queue:EnqueueTimeoutSeconds", "must be at least 1");
        Check(s.Queue.CommitGraceSeconds >= 1, "MailCluster:Queue:CommitGraceSeconds", "must be at least 1");
        Check(s.Queue.GateLeaseTtlSeconds is >= 3 and <= 600, "MailCluster:Queue:GateLeaseTtlSeconds", $"must be 3-600, got {s.Queue.GateLeaseTtlSeconds}");
        CheckSweep(s.Queue, Check);
        Check(s.Storage.Provider is "Sqlite" or "PostgreSql", "MailCluster:Storage:Provider", $"must be Sqlite or PostgreSql, got '{s.Storage.Provider}'");
        Check(s.Storage.JournalCompactionSeconds is 0 or (>= 10 and <= 86_400), "MailCluster:Storage:JournalCompactionSeconds", $"must be 0 (never) or 10 to 86400, got {s.Storage.JournalCompactionSeconds}");
        Check(s.Storage.SpoolFileThresholdBytes >= 0, "MailCluster:Storage:SpoolFileThresholdBytes", "must be 0 (every body in the database) or a size in bytes");
        var (connectionKey, connectionString) = MailCluster.Storage.PostgresConnectionString.Configured(s.Storage);
        Check(!s.Storage.IsPostgreSql || !string.IsNullOrWhiteSpace(connectionString), connectionKey, s.Storage.ConnectionStringFile is null ? "is required when the provider is PostgreSql" : $"file '{s.Storage.ConnectionStringFile}' cannot be read or is empty");
        var connectionProblem = s.Storage.IsPostgreSql && !string.IsNullOrWhiteSpace(connectionString) ? MailCluster.Storage.PostgresConnectionString.Problem(connectionString) : null;
        Check(connectionProblem is null, connectionKey, $"is neither an Npgsql connection string nor a postgresql:// URI: {connectionProblem}");
        Check(!string.IsNullOrWhiteSpace(s.Node.DataDir), "MailCluster:DataDir", "must not be empty");
        Check(!string.IsNullOrWhiteSpace(s.Node.Hostname), "MailCluster:Hostname", "must not be empty");
        return errors;
    }

    private static void CheckSweep(QueueOptions queue, Action<bool, string, string> check)
    {
        var sweep = queue.OrphanSweep;
        const string Key = MailCluster.Queue.Sweep.OrphanSweepOptions.Section;
        int smallest = MailCluster.Queue.Sweep.OrphanSweepOptions.SmallestMinAgeSeconds(queue);
        check(sweep.IntervalSeconds is >= 1 and <= 604_800, Key + ":IntervalSeconds", $"must be 1-604800 (a week), got {sweep.IntervalSeconds}");
        check(sweep.FirstRunSeconds is >= 0 and <= 604_800, Key + ":FirstRunSeconds", $"must be 0-604800 (a week), got {sweep.FirstRunSeconds}");
        check(sweep.PageSize is >= 1 and <= 5000, Key + ":PageSize", $"must be 1-5000, got {sweep.PageSize}");
        check(sweep.AskTimeoutSeconds is >= 1 and <= 600, Key + ":AskTimeoutSeconds", $"must be 1-600, got {sweep.AskTimeoutSeconds}");

        // Younger bodies may belong to an acceptance still under way, or to a queue still waiting for their commit.
        check(sweep.MinAgeSeconds >= smallest, Key + ":MinAgeSeconds",
            $"must be at least twice MailCluster:Queue:CommitGraceSeconds + MailCluster:Queue:EnqueueTimeoutSeconds ({smallest}), got {sweep.MinAgeSeconds}");
    }

    /// <summary>The outbound checks that AddOutbound repeats with ValidateOnStart, here so that the node stops with
    /// exit code 2 and the key named in both spellings before the host starts.</summary>
    private static void CheckOutbound(NodeSettings s, Action<bool, string, string> check)
    {
        const string Key = MailCluster.Outbound.OutboundOptions.Section;
        var o = s.Outbound;
        check(o.ConnectTimeoutSeconds > 0, Key + ":ConnectTimeoutSeconds", "must be positive");
        check(o.CommandTimeoutSeconds > 0, Key + ":CommandTimeoutSeconds", "must be positive");
        check(o.GreetingTimeoutSeconds > 0, Key + ":GreetingTimeoutSeconds", "must be positive");
        check(o.MailTimeoutSeconds > 0, Key + ":MailTimeoutSeconds", "must be positive");
        check(o.RcptTimeoutSeconds > 0, Key + ":RcptTimeoutSeconds", "must be positive");
        check(o.DataStartTimeoutSeconds > 0, Key + ":DataStartTimeoutSeconds", "must be positive");
        check(o.DataBlockTimeoutSeconds > 0, Key + ":DataBlockTimeoutSeconds", "must be positive");
        check(o.DataEndTimeoutSeconds > 0, Key + ":DataEndTimeoutSeconds", "must be positive");
        check(o.MaxConnectionsPerDomain > 0, Key + ":MaxConnectionsPerDomain", "must be positive");
        check(o.MessagesPerConnection > 0, Key + ":MessagesPerConnection", "must be positive");
        check(o.RatePerMinute >= 0, Key + ":RatePerMinute", "must not be negative");
        check(o.ConnectionIdleSeconds > 0, Key + ":ConnectionIdleSeconds", "must be positive");
        check(s.Dns.TimeoutSeconds > 0, MailCluster.Outbound.DnsOptions.Section + ":TimeoutSeconds", "must be positive");
        check(s.Dns.Retries >= 0, MailCluster.Outbound.DnsOptions.Section + ":Retries", "must not be negative");
        check(!o.Dane || s.Dns.DnssecValidating, Key + ":Dane",
            $"needs {MailCluster.Outbound.DnsOptions.Section}:DnssecValidating=true (DNS servers that validate DNSSEC, such as a local unbound): DANE trusts their AD bit");
    }

    /// <summary>
    /// <see cref="MailCluster.Outbound.DestinationPolicies.Problems"/> starts each problem with the configuration key
    /// (<c>MailCluster:Outbound:Domains:0:TlsPolicy must be ...</c>); the node's errors name it in both spellings.
    /// </summary>
    private static string DescribeProblem(string problem)
    {
        var space = problem.IndexOf(' ', StringComparison.Ordinal);
        return space < 0
            ? ConfigurationKeys.Describe(problem)
            : $"{ConfigurationKeys.Describe(problem[..space].TrimEnd(':'))}: {problem[(space + 1)..]}";
    }

    private static void CheckDomains(List<string> domains, string key, Action<bool, string, string> check)
    {
        for (var i = 0; i < domains.Count; i++)
        {
            check(DomainKey.TryNormalize(domains[i]) is not null, $"{key}:{i}", $"'{domains[i]}' is not a domain name");
        }
    }
}
