using System.Globalization;
using System.Text;
using MailCluster.IntegrationTests.Infrastructure;
using MailCluster.Testing;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T76: a dual-signed (RSA and Ed25519) submission relayed through a real Postfix (the MX of pf.test, storing into a
/// Maildir, as in T20) still verifies with dkimpy: both signatures pass on the message Postfix stored, after its own
/// Return-Path, Delivered-To and Received fields were added in front.
/// </summary>
[ParallelScenario]
public sealed class T76_DkimVerifiesAfterPostfix
{
    [Fact]
    public async Task Both_signatures_verify_on_the_message_postfix_stored()
    {
        var keyDir = Directory.CreateTempSubdirectory("mc-dkim-").FullName;
        try
        {
            var rsa = await DkimScenario.KeygenAsync(keyDir, "dual.test", "r1", "rsa-sha256");
            var ed = await DkimScenario.KeygenAsync(keyDir, "dual.test", "e1", "ed25519-sha256");
            await using var postfix = await PostfixInstance.StartAsync("pf.test", ["bob"]);
            await using var scenario = await Scenario.StartAsync(
                [DnsmasqServer.Mx("pf.test", "mx.pf.test", 10), DnsmasqServer.HostRecord("mx.pf.test", "127.0.0.1"), rsa.DnsmasqRecord, ed.DnsmasqRecord]);
            var env = DkimScenario.Environment(["dual.test"], rsa, ed);
            env["MailCluster__Outbound__Port"] = postfix.Port.ToString(CultureInfo.InvariantCulture);
            var config = scenario.NewNodeConfig(env);
            await scenario.StartNodeAsync(config);

            var message = Scenario.NewMessage("bob@pf.test", "T76 through Postfix", "ann@dual.test");
            Assert.StartsWith("2.0.0 ", await DkimScenario.SubmitAsync(config.SubmissionsPort, message), StringComparison.Ordinal);
            byte[] stored = await postfix.WaitForMessageAsync("bob", TimeSpan.FromSeconds(60));

            // Postfix stores LF line endings; the wire form (and what a verifier at the next hop sees) has CRLF.
            var crlf = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(stored).Replace("\n", "\r\n", StringComparison.Ordinal));
            Assert.Contains("(Postfix)", Encoding.UTF8.GetString(crlf), StringComparison.Ordinal);
            Assert.Equal(
                ["pass a=rsa-sha256 d=dual.test s=r1", "pass a=ed25519-sha256 d=dual.test s=e1"],
                await DkimVerifier.VerifyAsync(crlf, scenario.Dns));
        }
        finally
        {
            Directory.Delete(keyDir, recursive: true);
        }
    }
}
