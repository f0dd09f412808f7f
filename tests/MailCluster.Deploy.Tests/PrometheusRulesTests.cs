using System.Diagnostics;
using System.Text.RegularExpressions;
using Xunit;

namespace MailCluster.Ops.Tests;

/// <summary>
/// ops/prometheus/alerts.yml: every alert has a runbook section, every metric it reads is one the node exposes, and
/// (when promtool is installed; test.sh installs it with the Debian package "prometheus") the rules load and their
/// unit tests in alerts.test.yml pass.
/// </summary>
public sealed partial class PrometheusRulesTests
{
    private static readonly string Directory = Path.Combine(AppContext.BaseDirectory, "ops", "prometheus");
    private static readonly string Rules = File.ReadAllText(Path.Combine(Directory, "alerts.yml"));

    [Fact]
    public void Every_alert_has_a_runbook_annotation_that_names_a_runbook_section()
    {
        var runbook = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "ops", "RUNBOOK.md"));
        var anchors = Heading().Matches(runbook).Select(m => Anchor(m.Groups[1].Value)).ToHashSet(StringComparer.Ordinal);
        var alerts = AlertName().Matches(Rules).Select(m => m.Groups[1].Value).ToList();
        var runbooks = RunbookAnnotation().Matches(Rules).Select(m => m.Groups[1].Value).ToList();

        Assert.Equal(9, alerts.Count);
        Assert.Equal(alerts.Count, runbooks.Count);
        Assert.Equal(alerts.Select(a => "ops/RUNBOOK.md#" + a.ToLowerInvariant()), runbooks);
        Assert.All(runbooks, r => Assert.Contains(r, anchors));
    }

    [Fact]
    public async Task Every_metric_the_rules_read_is_exposed_by_a_node()
    {
        var exposed = await new NodeRegistry().NamesAsync();
        var read = MetricName().Matches(Rules).Select(m => m.Value).Distinct().ToList();

        Assert.NotEmpty(read);
        Assert.DoesNotContain(read, name => !exposed.Contains(name));
    }

    [Fact]
    public async Task Promtool_accepts_the_rules_and_their_unit_tests_pass()
    {
        var promtool = FindOnPath("promtool");
        if (promtool is null)
        {
            Assert.Skip("promtool is not installed (Debian package 'prometheus'; ./test.sh installs it): rules not checked by promtool");
        }

        var check = await RunAsync(promtool, "check rules alerts.yml");
        Assert.True(check.ExitCode == 0, check.Output);
        Assert.Contains("SUCCESS: 11 rules found", check.Output, StringComparison.Ordinal);

        var test = await RunAsync(promtool, "test rules alerts.test.yml");
        Assert.True(test.ExitCode == 0, test.Output);
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(string program, string arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(program, arguments)
        {
            WorkingDirectory = Directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        })!;
        var output = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var error = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        return (process.ExitCode, await output + await error);
    }

    private static string? FindOnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, program))
            .FirstOrDefault(File.Exists);

    /// <summary>GitHub's heading anchor: lower-case, punctuation dropped, spaces as dashes.</summary>
    private static string Anchor(string heading) =>
        "ops/RUNBOOK.md#" + Regex.Replace(heading.Trim().ToLowerInvariant(), "[^a-z0-9 _-]", "").Replace(' ', '-');

    [GeneratedRegex(@"^#{1,6} (.+)$", RegexOptions.Multiline)]
    private static partial Regex Heading();

    [GeneratedRegex(@"^\s*- alert: (\S+)\s*$", RegexOptions.Multiline)]
    private static partial Regex AlertName();

    [GeneratedRegex("""^\s*runbook: "([^"]+)"\s*$""", RegexOptions.Multiline)]
    private static partial Regex RunbookAnnotation();

    [GeneratedRegex(@"\bmailcluster_[a-z_]+\b")]
    private static partial Regex MetricName();
}
