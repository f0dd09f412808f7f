using System.Net;
using System.Text.Json;
using MailCluster.IntegrationTests.Infrastructure;
using MailCluster.Testing;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T109: injected mail is DKIM-signed at acceptance like an authenticated submission, checked by an independent
/// verifier (dkimpy, keys served by dnsmasq): a built message From a domain the API key may send as arrives signed
/// (and verifies after MimeKit built it); a raw message whose From names a domain outside the key arrives unsigned,
/// although that domain has a key: a signature vouches for the From address.
/// </summary>
[ParallelScenario]
public sealed class T109_InjectDkimSigned
{
    [Fact]
    public async Task Injected_mail_is_signed_for_from_addresses_the_key_may_use()
    {
        var keyDir = Directory.CreateTempSubdirectory("mc-dkim-").FullName;
        try
        {
            var signer = await DkimScenario.KeygenAsync(keyDir, Scenario.SenderDomain, "inj1", "rsa-sha256");
            var foreign = await DkimScenario.KeygenAsync(keyDir, "other.test", "o1", "ed25519-sha256");
            await using var scenario = await Scenario.StartAsync([signer.DnsmasqRecord, foreign.DnsmasqRecord]);
            var config = scenario.NewNodeConfig(InjectApi.Environment(DkimScenario.Environment([Scenario.SenderDomain], signer, foreign)));
            await scenario.StartNodeAsync(config);
            var (_, secret) = await InjectApi.CreateKeyAsync(config, [Scenario.SenderDomain]);

            var built = await InjectApi.PostAsync(config, secret, """
                {"envelope_sender":"app@senders.test","content":{"subject":"signed {{name}}","text_body":"Grüße, {{name}}","html_body":"<b>{{name}}</b>",
                 "from":{"email":"app@senders.test","name":"App"}},"recipients":[{"email":"signed@relay.test","name":"Ann"}]}
                """);
            Assert.True(built.Status == HttpStatusCode.OK, built.Json.ToString());
            var raw = await InjectApi.PostAsync(config, secret, JsonSerializer.Serialize(new
            {
                envelope_sender = "app@senders.test",
                content = "From: boss@other.test\r\nSubject: not ours to sign\r\n\r\nbody\r\n",
                recipients = new[] { new { email = "unsigned@relay.test" } },
            }));
            Assert.True(raw.Status == HttpStatusCode.OK, raw.Json.ToString());

            var signed = await scenario.Sink.WaitForRecipientAsync("signed@relay.test", TimeSpan.FromSeconds(60));
            Assert.Equal(["pass a=rsa-sha256 d=senders.test s=inj1"], await DkimVerifier.VerifyAsync(signed.Data, scenario.Dns));
            var unsigned = await scenario.Sink.WaitForRecipientAsync("unsigned@relay.test", TimeSpan.FromSeconds(60));
            Assert.Empty(await DkimVerifier.VerifyAsync(unsigned.Data, scenario.Dns));
        }
        finally
        {
            Directory.Delete(keyDir, recursive: true);
        }
    }
}
