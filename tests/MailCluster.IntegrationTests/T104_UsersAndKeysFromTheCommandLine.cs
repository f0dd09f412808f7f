using System.Text.Json;
using MailCluster.IntegrationTests.Infrastructure;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T104: the built <c>mailcluster</c> tool against a real node: <c>user add|passwd|list|remove</c> (the password from a
/// file, never an argument) and <c>key create|list|disable|enable|delete</c>, each checked by what SMTP AUTH then says.
/// </summary>
[ParallelScenario]
public sealed class T104_UsersAndKeysFromTheCommandLine
{
    [Fact]
    public async Task Users_and_keys_are_managed_from_the_command_line()
    {
        await using var scenario = await Scenario.StartAsync();
        var config = scenario.NewNodeConfig(new Dictionary<string, string> { ["MailCluster__Smtp__AuthFailureDelayMilliseconds"] = "10" });
        await scenario.StartNodeAsync(config, "node-t104");
        using var cli = new MailClusterCli();
        var admin = new Dictionary<string, string> { ["MAILCLUSTER_URL"] = $"http://127.0.0.1:{config.OpsPort}", ["MAILCLUSTER_TOKEN"] = config.AdminToken };
        var port = config.SubmissionsPort;
        var passwordFile = Path.Combine(cli.Home, "pw");

        await File.WriteAllTextAsync(passwordFile, "t104 first\n");
        await Ok(cli.RunAsync(admin, "user", "add", "clerk", "--sender", "clerk@senders.test", "--password-file", passwordFile));
        Assert.StartsWith("235 ", await AuthSubmission.AuthReplyAsync(port, "clerk", "t104 first"), StringComparison.Ordinal);
        var users = await Ok(cli.RunAsync(admin, "user", "list", "--json"));
        var clerk = Lines(users).Single(u => u.GetProperty("name").GetString() == "clerk");
        Assert.Equal("runtime", clerk.GetProperty("source").GetString());
        Assert.Equal("clerk@senders.test", clerk.GetProperty("allowed_senders")[0].GetString());

        await File.WriteAllTextAsync(passwordFile, "t104 second\n");
        await Ok(cli.RunAsync(admin, "user", "passwd", "clerk", "--password-file", passwordFile));
        Assert.StartsWith("535 ", await AuthSubmission.AuthReplyAsync(port, "clerk", "t104 first"), StringComparison.Ordinal);
        Assert.StartsWith("235 ", await AuthSubmission.AuthReplyAsync(port, "clerk", "t104 second"), StringComparison.Ordinal);
        await Ok(cli.RunAsync(admin, "user", "remove", "clerk"));
        Assert.StartsWith("535 ", await AuthSubmission.AuthReplyAsync(port, "clerk", "t104 second"), StringComparison.Ordinal);
        var missing = await cli.RunAsync(admin, "user", "remove", "clerk");
        Assert.NotEqual(0, missing.ExitCode);
        Assert.Contains("404", missing.Stderr, StringComparison.Ordinal);

        var created = await Ok(cli.RunAsync(admin, "key", "create", "--name", "t104", "--sender", "senders.test", "--scope", "smtp", "--rate-per-minute", "60", "--json"));
        using var key = JsonDocument.Parse(created.Stdout);
        var (id, secret) = (key.RootElement.GetProperty("id").GetString()!, key.RootElement.GetProperty("secret").GetString()!);
        Assert.StartsWith("235 ", await AuthSubmission.AuthReplyAsync(port, id, secret), StringComparison.Ordinal);
        var listed = await Ok(cli.RunAsync(admin, "key", "list"));
        Assert.Contains(id, listed.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, listed.Stdout, StringComparison.Ordinal);

        await Ok(cli.RunAsync(admin, "key", "disable", id));
        Assert.StartsWith("535 ", await AuthSubmission.AuthReplyAsync(port, id, secret), StringComparison.Ordinal);
        await Ok(cli.RunAsync(admin, "key", "enable", id));
        Assert.StartsWith("235 ", await AuthSubmission.AuthReplyAsync(port, id, secret), StringComparison.Ordinal);
        await Ok(cli.RunAsync(admin, "key", "delete", id));
        Assert.StartsWith("535 ", await AuthSubmission.AuthReplyAsync(port, id, secret), StringComparison.Ordinal);

        var usage = await cli.RunAsync(admin, "key", "create", "--name", "no-senders");
        Assert.NotEqual(0, usage.ExitCode);
        Assert.Contains("--sender", usage.Stderr + usage.Stdout, StringComparison.Ordinal);
    }

    private static IEnumerable<JsonElement> Lines(CliResult result) =>
        result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.Clone());

    private static async Task<CliResult> Ok(Task<CliResult> run)
    {
        var result = await run;
        Assert.True(result.ExitCode == 0, $"expected exit 0: {result}");
        return result;
    }
}
