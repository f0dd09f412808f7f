using MailCluster.IntegrationTests.Infrastructure;
using MailCluster.Testing;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T75: DKIM signing at acceptance, checked by an independent verifier (dkimpy, public keys served by dnsmasq). Keys
/// come from the host's <c>dkim keygen</c>: RSA for rsa.test, Ed25519 for ed.test, both for dual.test. Authenticated
/// submissions from those domains reach the sink signed, with nothing else changed; mail for the same domain that
/// arrives unauthenticated on the MX listener is relayed unsigned.
/// </summary>
[ParallelScenario]
public sealed class T75_DkimSignsSubmissions
{
    [Fact]
    public async Task Submissions_are_signed_per_from_domain_and_relayed_mail_is_not()
    {
        var keyDir = Directory.CreateTempSubdirectory("mc-dkim-").FullName;
        try
        {
            var rsa = await DkimScenario.KeygenAsync(keyDir, "rsa.test", "mc2026", "rsa-sha256");
            var ed = await DkimScenario.KeygenAsync(keyDir, "ed.test", "mc2026e", "ed25519-sha256");
            var dualRsa = await DkimScenario.KeygenAsync(keyDir, "dual.test", "r1", "rsa-sha256");
            var dualEd = await DkimScenario.KeygenAsync(keyDir, "dual.test", "e1", "ed25519-sha256");
            await using var scenario = await Scenario.StartAsync([rsa.DnsmasqRecord, ed.DnsmasqRecord, dualRsa.DnsmasqRecord, dualEd.DnsmasqRecord]);
            var config = scenario.NewNodeConfig(DkimScenario.Environment(["rsa.test", "ed.test", "dual.test", "plain.test"], rsa, ed, dualRsa, dualEd));
            await scenario.StartNodeAsync(config);

            var cases = new (string From, string To, string[] Expected)[]
            {
                ("ann@rsa.test", "rsa@relay.test", ["pass a=rsa-sha256 d=rsa.test s=mc2026"]),
                ("ann@ed.test", "ed@relay.test", ["pass a=ed25519-sha256 d=ed.test s=mc2026e"]),
                ("ann@dual.test", "dual@relay.test", ["pass a=rsa-sha256 d=dual.test s=r1", "pass a=ed25519-sha256 d=dual.test s=e1"]),
                ("ann@plain.test", "plain@relay.test", []),
            };
            var sent = new Dictionary<string, byte[]>();
            foreach (var (from, to, _) in cases)
            {
                var message = Scenario.NewMessage(to, "T75 " + from, from);
                Assert.StartsWith("2.0.0 ", await DkimScenario.SubmitAsync(config.SubmissionsPort, message), StringComparison.Ordinal);
                sent[to] = Scenario.WireBytes(message);
            }

            var relayed = Scenario.NewMessage("mx@relay.test", "T75 relayed", "ann@dual.test");
            await Scenario.SendAsync(config.MxPort, relayed);

            foreach (var (_, to, expected) in cases)
            {
                var received = await scenario.Sink.WaitForRecipientAsync(to, TimeSpan.FromSeconds(60));
                Assert.Equal(expected, await DkimVerifier.VerifyAsync(received.Data, scenario.Dns));
                Assert.Equal(1 + expected.Length, DkimScenario.AssertPrependedFields(sent[to], received.Data).Count);
            }

            var unsigned = await scenario.Sink.WaitForRecipientAsync("mx@relay.test", TimeSpan.FromSeconds(60));
            Assert.Empty(await DkimVerifier.VerifyAsync(unsigned.Data, scenario.Dns));
            Assert.Equal(["Received"], DkimScenario.AssertPrependedFields(Scenario.WireBytes(relayed), unsigned.Data));
        }
        finally
        {
            Directory.Delete(keyDir, recursive: true);
        }
    }
}
