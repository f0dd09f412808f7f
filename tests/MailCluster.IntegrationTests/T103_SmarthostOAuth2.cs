using MailCluster.IntegrationTests.Infrastructure;
using MailCluster.Testing;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T103: XOAUTH2 toward a smarthost with a token MailCluster obtains itself (client credentials grant) from a real
/// token endpoint on loopback; the scripted smarthost accepts only tokens that endpoint issued and that have not
/// expired. The token is reused while fresh, replaced before it expires (a 4 s token is refreshed after 2 s), and a
/// token endpoint that fails defers the message (a transient failure) until it answers again.
/// </summary>
[ParallelScenario]
public sealed class T103_SmarthostOAuth2
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Smarthost_gets_a_fresh_token_and_a_failing_token_endpoint_only_defers()
    {
        await using var scenario = await Scenario.StartAsync();
        await using var tokens = await OAuthTokenEndpoint.StartAsync("mailcluster-t103", "t103 client secret");
        tokens.Lifetime = TimeSpan.FromSeconds(4);
        var secretFile = Path.Combine(scenario.DataDir, "oauth-client-secret");
        await File.WriteAllTextAsync(secretFile, "t103 client secret\n");
        scenario.Sink.OAuthTokenCheck = (user, token) => user == "relay@example.com" && tokens.IsValid(token);

        var env = ScenarioMail.RelayDomains("anywhere.example");
        env["MailCluster__Outbound__Smarthost"] = $"smtp:127.0.0.1:{scenario.Sink.Port}";
        env["MailCluster__Outbound__SmarthostUsername"] = "relay@example.com";
        env["MailCluster__Outbound__SmarthostOAuth__TokenEndpoint"] = tokens.Url;
        env["MailCluster__Outbound__SmarthostOAuth__ClientId"] = "mailcluster-t103";
        env["MailCluster__Outbound__SmarthostOAuth__ClientSecretFile"] = secretFile;
        env["MailCluster__Outbound__SmarthostOAuth__Scope"] = "https://mail.example/";
        env["MailCluster__Outbound__Port"] = "1"; // MX delivery would go nowhere: only the smarthost reaches the sink.
        env["MailCluster__Outbound__MessagesPerConnection"] = "1"; // a session, and an AUTH, per message
        env["MailCluster__Retry__InitialSeconds"] = "1";
        env["MailCluster__Retry__MaxSeconds"] = "2";
        var config = scenario.NewNodeConfig(env);
        await scenario.StartNodeAsync(config);

        await Scenario.SendAsync(config.MxPort, Scenario.NewMessage("a@anywhere.example", "T103 one"));
        await scenario.Sink.WaitForMessagesAsync(1, Wait);
        Assert.Equal(["at-1"], scenario.Sink.OAuthTokensSeen);
        var request = Assert.Single(tokens.Requests);
        Assert.Equal(("client_credentials", "mailcluster-t103", "https://mail.example/"), (request["grant_type"], request["client_id"], request["scope"]));

        // Past half the token's lifetime: the next session gets a new token, not the one about to expire.
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        await Scenario.SendAsync(config.MxPort, Scenario.NewMessage("b@anywhere.example", "T103 two"));
        await scenario.Sink.WaitForMessagesAsync(2, Wait);
        Assert.Equal(["at-1", "at-2"], scenario.Sink.OAuthTokensSeen);
        Assert.Equal(["relay@example.com", "relay@example.com"], scenario.Sink.Authentications);

        // The endpoint fails: the third message waits (no session is even opened), then goes once it answers.
        tokens.Failing = true;
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        var connectionsBefore = scenario.Sink.ConnectionCount;
        await Scenario.SendAsync(config.MxPort, Scenario.NewMessage("c@anywhere.example", "T103 three"));
        await WaitUntilAsync(() => tokens.Requests.Count >= 4, "two failed token requests (the first attempt and a retry)");
        Assert.Equal(connectionsBefore, scenario.Sink.ConnectionCount);
        Assert.Equal(2, scenario.Sink.Messages.Count);

        tokens.Failing = false;
        var all = await scenario.Sink.WaitForMessagesAsync(3, Wait);
        Assert.Equal(["a@anywhere.example", "b@anywhere.example", "c@anywhere.example"], all.Select(m => Assert.Single(m.Recipients)));
        Assert.Equal("at-3", scenario.Sink.OAuthTokensSeen[^1]);
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Wait;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}");
            await Task.Delay(100);
        }
    }
}
