using MailCluster.IntegrationTests.Infrastructure;
using Microsoft.Data.Sqlite;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T118 (#17): a policy host that redirects, answers 404, or serves the policy as text/html gives no policy
/// (RFC 8461 §3.3: no redirects, 200 and text/plain only). The message is then delivered as without a policy —
/// over TLS with a certificate enforce would refuse — and the failure is counted as sts-policy-fetch-error in the
/// cluster's TLS-RPT table.
/// </summary>
[ParallelScenario]
public class T118_MtaStsFetchFailures
{
    [Theory]
    [InlineData("redirect")]
    [InlineData("404")]
    [InlineData("text/html")]
    public async Task A_bad_policy_answer_means_no_policy_and_is_counted(string failure)
    {
        await using var world = await StsScenario.StartAsync(StsScenario.EnforcePolicy(), "wrong.name.test");
        switch (failure)
        {
            case "redirect":
                world.Policy.RedirectTo = $"https://{StsScenario.PolicyHost}:{world.Policy.Port}/elsewhere.txt";
                break;
            case "404":
                world.Policy.Status = 404;
                break;
            default:
                world.Policy.ContentType = "text/html";
                break;
        }

        // Daily periods: the counts stay in the table, unreported, for this test to read.
        var config = world.NewNodeConfig(new Dictionary<string, string>(StringComparer.Ordinal) { ["MailCluster__TlsRpt__PeriodSeconds"] = "86400" });
        var node = await world.Inner.StartNodeAsync(config);
        await Scenario.SendAsync(config.MxPort, Scenario.NewMessage($"dan@{StsScenario.Domain}", "T118 " + failure));
        await world.Inner.Sink.WaitForMessageAsync(TimeSpan.FromSeconds(60));
        await node.WaitForLogAsync("MTA-STS policy of sts.test not fetched", TimeSpan.FromSeconds(10));
        Assert.Equal(1, world.Policy.PolicyRequests);

        long counted = 0;
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (counted == 0 && DateTime.UtcNow < deadline)
        {
            counted = await CountAsync(Path.Combine(world.Inner.DataDir, "tls-rpt.db"), "sts-policy-fetch-error");
            await Task.Delay(200, TestContext.Current.CancellationToken);
        }

        Assert.Equal(1, counted);
    }

    private static async Task<long> CountAsync(string path, string result)
    {
        if (!File.Exists(path))
        {
            return 0;
        }

        await using var connection = new SqliteConnection($"Data Source={path};Mode=ReadOnly;Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT COALESCE(SUM(count), 0) FROM mc_tls_rpt_count WHERE domain = 'sts.test' AND policy_type = 'sts' AND result = $r";
        command.Parameters.AddWithValue("$r", result);
        try
        {
            return (long)(await command.ExecuteScalarAsync() ?? 0L);
        }
        catch (SqliteException)
        {
            return 0; // The table is created on the node's first flush.
        }
    }
}
