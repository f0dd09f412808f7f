using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Xunit;

namespace MailCluster.Deploy.Tests;

/// <summary>
/// The observability kit against a real node's /metrics: every metric the alert rules and the Grafana dashboard read
/// is exported; the build info carries the project's version; the certificate-expiry gauge is the NotAfter of the
/// certificate the edge presents and follows a renewal of the mounted files; the oldest-queued-message gauge measures
/// a message that cannot be delivered.
/// </summary>
public sealed partial class NodeMetricsTests(RunningNode node) : IClassFixture<RunningNode>
{
    private static readonly HashSet<string> NotMetrics = new(StringComparer.Ordinal) { "and", "or", "unless", "bool", "offset", "inf", "nan" };

    [Fact]
    public async Task Every_metric_the_alert_rules_read_is_exported_by_a_running_node()
    {
        var exported = Names(await node.MetricsAsync());
        var rules = await File.ReadAllTextAsync(Repository.PathOf("ops", "prometheus", "alerts.yml"), TestContext.Current.CancellationToken);
        var read = RuleMetric().Matches(rules).Select(m => m.Value).Distinct().ToList();

        Assert.True(read.Count >= 13, string.Join(", ", read));
        Assert.All(read, name => Assert.Contains(name, exported));
    }

    [Fact]
    public async Task Every_query_of_the_Grafana_dashboard_reads_only_metrics_a_running_node_exports()
    {
        var exported = Names(await node.MetricsAsync());
        using var dashboard = JsonDocument.Parse(await File.ReadAllTextAsync(Repository.PathOf("ops", "grafana", "mailcluster.json"), TestContext.Current.CancellationToken));
        var queries = Queries(dashboard.RootElement).ToList();

        Assert.True(queries.Count >= 18, $"{queries.Count} queries");
        Assert.All(queries, query =>
        {
            var names = MetricNames(query).ToList();
            Assert.True(names.Count > 0, $"no metric in: {query}");
            Assert.All(names, name => Assert.True(exported.Contains(name), $"'{name}' (in {query}) is not exported by a node"));
        });
    }

    [Fact]
    public async Task Build_info_carries_the_project_version()
    {
        var props = await File.ReadAllTextAsync(Repository.PathOf("Directory.Build.props"), TestContext.Current.CancellationToken);
        var version = Regex.Match(props, "<Version>([^<]+)</Version>").Groups[1].Value;

        var metrics = await node.MetricsAsync();

        Assert.Matches($@"(?m)^mailcluster_build_info\{{version=""{Regex.Escape(version)}"",revision=""[^""]+""\}} 1$", metrics);
    }

    [Fact]
    public async Task The_cluster_api_shows_the_project_version()
    {
        var props = await File.ReadAllTextAsync(Repository.PathOf("Directory.Build.props"), TestContext.Current.CancellationToken);
        var version = Regex.Match(props, "<Version>([^<]+)</Version>").Groups[1].Value;
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(15) };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", node.AdminToken);

        using var view = JsonDocument.Parse(await http.GetStringAsync(new Uri($"http://127.0.0.1:{node.OpsPort}/api/v1/cluster"), TestContext.Current.CancellationToken));

        Assert.Equal(version, view.RootElement.GetProperty("version").GetString());
    }

    [Fact]
    public async Task Certificate_expiry_is_the_presented_certificates_NotAfter_and_follows_a_renewal()
    {
        Assert.Equal(node.FirstNotAfter.ToUnixTimeSeconds(), Sample(await node.MetricsAsync(), "mailcluster_tls_certificate_expiry_timestamp_seconds"));

        var renewed = node.WriteCertificate(TimeSpan.FromDays(90));

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        double value;
        while ((value = Sample(await node.MetricsAsync(), "mailcluster_tls_certificate_expiry_timestamp_seconds")) != renewed.ToUnixTimeSeconds())
        {
            Assert.True(DateTime.UtcNow < deadline, $"still {value}, expected {renewed.ToUnixTimeSeconds()} after the files were replaced\n{node.Process.Tail(30)}");
            await Task.Delay(500, TestContext.Current.CancellationToken);
        }
    }

    [Fact]
    public async Task Oldest_queued_message_age_measures_the_undeliverable_message()
    {
        // The message was deferred (connection refused) and waits for its next attempt; its age grows with time.
        var metrics = await node.MetricsAsync();
        var age = Sample(metrics, "mailcluster_queue_oldest_message_age_seconds");
        var elapsed = (DateTimeOffset.UtcNow - node.SubmittedAt).TotalSeconds;

        Assert.True(Sample(metrics, "mailcluster_queue_messages") >= 1, metrics);
        Assert.InRange(age, 0.001, elapsed + 1);

        await Task.Delay(TimeSpan.FromSeconds(2), TestContext.Current.CancellationToken);
        Assert.True(Sample(await node.MetricsAsync(), "mailcluster_queue_oldest_message_age_seconds") >= age + 1.5);
    }

    /// <summary>Metric names metric families declare (<c># TYPE</c>) and sample names (<c>_bucket</c> etc. included).</summary>
    private static HashSet<string> Names(string metrics)
    {
        var lines = metrics.Split('\n');
        var families = lines.Where(l => l.StartsWith("# TYPE ", StringComparison.Ordinal)).Select(l => l.Split(' ')[2]);
        var samples = lines.Where(l => l.Length > 0 && l[0] != '#').Select(l => l.Split('{', ' ')[0]);
        return families.Concat(samples).ToHashSet(StringComparer.Ordinal);
    }

    private static double Sample(string metrics, string name)
    {
        var line = metrics.Split('\n').SingleOrDefault(l => l.StartsWith(name + " ", StringComparison.Ordinal))
            ?? throw new Xunit.Sdk.XunitException($"{name} is not exported:\n{metrics}");
        return double.Parse(line[(name.Length + 1)..], CultureInfo.InvariantCulture);
    }

    /// <summary>Every PromQL query of the dashboard: panel targets and query variables.</summary>
    private static IEnumerable<string> Queries(JsonElement dashboard)
    {
        foreach (var panel in dashboard.GetProperty("panels").EnumerateArray())
        {
            foreach (var target in panel.GetProperty("targets").EnumerateArray())
            {
                yield return target.GetProperty("expr").GetString()!;
            }
        }

        foreach (var variable in dashboard.GetProperty("templating").GetProperty("list").EnumerateArray())
        {
            if (variable.GetProperty("type").GetString() == "query")
            {
                yield return LabelValues().Match(variable.GetProperty("query").GetProperty("query").GetString()!).Groups[1].Value;
            }
        }
    }

    /// <summary>The metric names a PromQL expression selects: identifiers that are not functions, keywords, label
    /// names in matchers or grouping clauses, or strings.</summary>
    private static IEnumerable<string> MetricNames(string expr)
    {
        var s = Regex.Replace(expr, "\"[^\"]*\"", "\"\"");
        s = Regex.Replace(s, @"\{[^}]*\}", " ");
        s = Regex.Replace(s, @"\[[^\]]*\]", " ");
        s = Regex.Replace(s, @"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ");
        return Identifier().Matches(s).Select(m => m.Groups[1].Value).Where(n => !NotMetrics.Contains(n.ToLowerInvariant())).Distinct();
    }

    [GeneratedRegex(@"\bmailcluster_[a-z_]+\b")]
    private static partial Regex RuleMetric();

    [GeneratedRegex(@"(?<![\w.])([a-zA-Z_:][a-zA-Z0-9_:]*)\b(?!\s*\()")]
    private static partial Regex Identifier();

    [GeneratedRegex(@"^label_values\(([a-zA-Z_:][a-zA-Z0-9_:]*)")]
    private static partial Regex LabelValues();
}
