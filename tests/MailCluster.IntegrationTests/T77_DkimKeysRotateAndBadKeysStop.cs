using System.Diagnostics;
using MailCluster.IntegrationTests.Infrastructure;
using MailCluster.Testing;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T77: DKIM keys as Kubernetes Secrets. A key file replaced on disk (written beside, then renamed over, as the kubelet
/// swaps a Secret's files) signs the following submissions without a restart: they verify against the new key's record
/// and no longer against the old one. A node whose key file does not fit its algorithm refuses to start, with exit
/// code 2 and the key named.
/// </summary>
[ParallelScenario]
public sealed class T77_DkimKeysRotateAndBadKeysStop
{
    [Fact]
    public async Task A_replaced_key_file_signs_the_next_messages()
    {
        var keyDir = Directory.CreateTempSubdirectory("mc-dkim-").FullName;
        try
        {
            var old = await DkimScenario.KeygenAsync(keyDir, "rot.test", "s1", "rsa-sha256", "dkim.pem");
            var next = await DkimScenario.KeygenAsync(keyDir, "rot.test", "s1", "rsa-sha256", "next.pem");
            await using var scenario = await Scenario.StartAsync([old.DnsmasqRecord]);
            await using var nextDns = await DnsmasqServer.StartAsync([next.DnsmasqRecord]);
            var config = scenario.NewNodeConfig(DkimScenario.Environment(["rot.test"], old));
            await scenario.StartNodeAsync(config);

            Assert.StartsWith("2.0.0 ", await DkimScenario.SubmitAsync(config.SubmissionsPort, Scenario.NewMessage("r0@relay.test", "T77 old key", "ann@rot.test")), StringComparison.Ordinal);
            var first = await scenario.Sink.WaitForRecipientAsync("r0@relay.test", TimeSpan.FromSeconds(60));
            Assert.Equal(["pass a=rsa-sha256 d=rot.test s=s1"], await DkimVerifier.VerifyAsync(first.Data, scenario.Dns));

            await Task.Delay(1100); // a visibly newer file timestamp
            File.Move(next.Path, old.Path, overwrite: true);

            // The node checks the file at most every few seconds: submit until a message carries the new key's signature.
            var clock = Stopwatch.StartNew();
            IReadOnlyList<string> verdict;
            byte[] signed;
            var n = 0;
            do
            {
                await Task.Delay(500);
                var to = $"r{++n}@relay.test";
                Assert.StartsWith("2.0.0 ", await DkimScenario.SubmitAsync(config.SubmissionsPort, Scenario.NewMessage(to, "T77 new key", "ann@rot.test")), StringComparison.Ordinal);
                signed = (await scenario.Sink.WaitForRecipientAsync(to, TimeSpan.FromSeconds(60))).Data;
                verdict = await DkimVerifier.VerifyAsync(signed, nextDns);
            }
            while (verdict.SequenceEqual(["fail a=rsa-sha256 d=rot.test s=s1"]) && clock.Elapsed < TimeSpan.FromSeconds(30));

            Assert.Equal(["pass a=rsa-sha256 d=rot.test s=s1"], verdict);
            Assert.Equal(["fail a=rsa-sha256 d=rot.test s=s1"], await DkimVerifier.VerifyAsync(signed, scenario.Dns));
        }
        finally
        {
            Directory.Delete(keyDir, recursive: true);
        }
    }

    [Fact]
    public async Task A_key_that_does_not_fit_its_algorithm_stops_the_node_naming_the_key()
    {
        var keyDir = Directory.CreateTempSubdirectory("mc-dkim-").FullName;
        try
        {
            var ed = await DkimScenario.KeygenAsync(keyDir, "bad.test", "s1", "ed25519-sha256");
            await using var scenario = await Scenario.StartAsync();
            var config = scenario.NewNodeConfig(DkimScenario.Environment(["bad.test"], ed with { Algorithm = "rsa-sha256" }));

            await using var node = NodeProcess.Start(config.Environment, "bad-dkim-key");

            Assert.Equal(2, await node.WaitForExitAsync(TimeSpan.FromSeconds(60)));
            Assert.Contains("MailCluster:Dkim:Domains:0:KeyPath (environment: MailCluster__Dkim__Domains__0__KeyPath)", node.Log, StringComparison.Ordinal);
            Assert.Contains("is not an RSA private key", node.Log, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(keyDir, recursive: true);
        }
    }
}
