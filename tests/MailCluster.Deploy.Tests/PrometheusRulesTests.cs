using System.Text.RegularExpressions;
using Xunit;

namespace MailCluster.Deploy.Tests;

/// <summary>
/// ops/prometheus/alerts.yml, the one source of the rules, and the PrometheusRule rendered from it: every alert has a
/// runbook_url naming a section of ops/RUNBOOK.md, no rule assumes a job name, the rendered file is up to date, and
/// promtool checks and unit-tests both (alerts.test.yml runs against each). Whether the metrics the rules read exist
/// is checked against a running node in <see cref="NodeMetricsTests"/>.
/// </summary>
public sealed partial class PrometheusRulesTests
{
    private const string RunbookBase = "https://mailcluster.example/runbook";
    private static readonly string Rules = File.ReadAllText(Repository.PathOf("ops", "prometheus", "alerts.yml"));

    [Fact]
    public void Every_alert_has_a_runbook_url_that_names_a_runbook_section()
    {
        var runbook = File.ReadAllText(Repository.PathOf("ops", "RUNBOOK.md"));
        var anchors = Heading().Matches(runbook).Select(m => Anchor(m.Groups[1].Value)).ToHashSet(StringComparer.Ordinal);
        var alerts = AlertName().Matches(Rules).Select(m => m.Groups[1].Value).ToList();
        var urls = RunbookUrl().Matches(Rules).Select(m => m.Groups[1].Value).ToList();

        Assert.Equal(14, alerts.Count);
        Assert.Equal(alerts.Select(a => $"{RunbookBase}#{a.ToLowerInvariant()}"), urls);
        Assert.All(urls, u => Assert.Contains(u[(u.IndexOf('#', StringComparison.Ordinal) + 1)..], anchors));
        Assert.DoesNotContain("runbook:", Rules, StringComparison.Ordinal);
    }

    [Fact]
    public void No_rule_assumes_a_job_name()
    {
        // Annotation scraping and the Prometheus Operator name the job differently; a job= matcher fits one of them.
        Assert.DoesNotMatch(@"job\s*=~?\s*""", Rules);
    }

    [Fact]
    public async Task The_rendered_PrometheusRule_is_up_to_date()
    {
        using var temp = new TempDirectory();
        var fresh = Path.Combine(temp.Path, "prometheusrule.yaml");

        var (exit, output, error) = await Repository.RunAsync("bash", [Repository.PathOf("ops", "prometheus", "render-prometheusrule.sh"), fresh]);

        Assert.True(exit == 0, output + error);
        var checkedIn = await File.ReadAllTextAsync(Repository.PathOf("k8s", "overlays", "production", "prometheusrule.yaml"), TestContext.Current.CancellationToken);
        Assert.True(
            checkedIn == await File.ReadAllTextAsync(fresh, TestContext.Current.CancellationToken),
            "k8s/overlays/production/prometheusrule.yaml is out of date: run ops/prometheus/render-prometheusrule.sh");
    }

    [Fact]
    public async Task Promtool_checks_and_unit_tests_alerts_yml()
    {
        await PromtoolAsync(Repository.PathOf("ops", "prometheus"));
    }

    [Fact]
    public async Task Promtool_checks_and_unit_tests_the_rules_of_the_rendered_PrometheusRule()
    {
        // The rules exactly as the Operator gets them: the spec of the PrometheusRule in the rendered production
        // overlay, written as a rules file beside a copy of the rule tests.
        using var temp = new TempDirectory();
        var rendered = await Repository.RenderAsync(Repository.PathOf("k8s", "overlays", "production"), temp.Path);
        var (exit, spec, error) = await Repository.ValidateAsync("rules", rendered);
        Assert.True(exit == 0, spec + error);
        var rules = Path.Combine(temp.Path, "rules");
        Directory.CreateDirectory(rules);
        await File.WriteAllTextAsync(Path.Combine(rules, "alerts.yml"), spec, TestContext.Current.CancellationToken);
        File.Copy(Repository.PathOf("ops", "prometheus", "alerts.test.yml"), Path.Combine(rules, "alerts.test.yml"));

        await PromtoolAsync(rules);
    }

    private static async Task PromtoolAsync(string directory)
    {
        var promtool = Repository.Tool("promtool");
        var check = await Repository.RunAsync(promtool, ["check", "rules", "alerts.yml"], directory);
        Assert.True(check.ExitCode == 0, check.Output + check.Error);
        Assert.Contains("SUCCESS: 16 rules found", check.Output, StringComparison.Ordinal);

        var test = await Repository.RunAsync(promtool, ["test", "rules", "alerts.test.yml"], directory);
        Assert.True(test.ExitCode == 0, test.Output + test.Error);
    }

    /// <summary>GitHub's heading anchor: lower-case, punctuation dropped, spaces as dashes.</summary>
    private static string Anchor(string heading) =>
        Regex.Replace(heading.Trim().ToLowerInvariant(), "[^a-z0-9 _-]", "").Replace(' ', '-');

    [GeneratedRegex(@"^#{1,6} (.+)$", RegexOptions.Multiline)]
    private static partial Regex Heading();

    [GeneratedRegex(@"^\s*- alert: (\S+)\s*$", RegexOptions.Multiline)]
    private static partial Regex AlertName();

    [GeneratedRegex("""^\s*runbook_url: "([^"]+)"\s*$""", RegexOptions.Multiline)]
    private static partial Regex RunbookUrl();
}
