using MailCluster.Ops.Suppression;
using Xunit;

namespace MailCluster.Ops.Tests.Suppression;

/// <summary>The rules in force at start-up: defaults, an operator's file, and the configuration error a bad file is.</summary>
public sealed class BounceHostingTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("mc-bounces-").FullName;

    [Fact]
    public void Without_a_file_the_shipped_rules_are_in_force()
    {
        var (classifier, problem) = BounceHosting.Load(new BounceOptions());

        Assert.Null(problem);
        Assert.Equal("InvalidRecipient", classifier!.Classify(550, "5.1.1", "user unknown"));
    }

    [Fact]
    public void An_operator_file_is_merged_over_the_defaults()
    {
        var path = Path.Combine(_dir, "rules.json");
        File.WriteAllText(path, """{"rules": {"Unsubscribed": ["unsubscribed"]}}""");

        var (classifier, problem) = BounceHosting.Load(new BounceOptions { RulesPath = path });

        Assert.Null(problem);
        Assert.Equal("Unsubscribed", classifier!.Classify(550, "5.7.1", "recipient unsubscribed"));
        Assert.Equal("QuotaIssues", classifier.Classify(552, "5.2.2", "mailbox full"));
    }

    [Fact]
    public void A_bad_rule_is_a_start_up_error_naming_the_key_and_the_rule()
    {
        var path = Path.Combine(_dir, "rules.json");
        File.WriteAllText(path, """{"rules": {"Broken": ["[unclosed"]}}""");

        var (classifier, problem) = BounceHosting.Load(new BounceOptions { RulesPath = path });

        Assert.Null(classifier);
        Assert.Equal("MailCluster:Bounces:RulesPath", problem!.Value.Key);
        Assert.Contains("rules.Broken[0] '[unclosed'", problem.Value.Problem, StringComparison.Ordinal);
        Assert.Contains(path, problem.Value.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_file_is_a_start_up_error_naming_the_key()
    {
        var (_, problem) = BounceHosting.Load(new BounceOptions { RulesPath = Path.Combine(_dir, "absent.json") });

        Assert.Equal("MailCluster:Bounces:RulesPath", problem!.Value.Key);
        Assert.Contains("cannot be read", problem.Value.Problem, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
