using System.Net;
using MailCluster.IntegrationTests.Infrastructure;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T107: every bad input of issue 20's list, answered with its status and an RFC 7807 problem naming the cause, with
/// nothing queued (the queue API shows the relay domain empty after each refusal, which is synchronous): malformed
/// JSON, missing and wrong-typed fields, invalid addresses, empty and too many recipients, an oversize body, an unknown
/// template variable, no key / a wrong key / a disabled key / a key without scope http (401), a sender outside the
/// key (403), and over the key's rate (429 with Retry-After, after the first request of the minute went through).
/// </summary>
[ParallelScenario]
public sealed class T107_InjectBadInputAndKeys
{
    private const string Good = """{"envelope_sender":"app@senders.test","content":"Subject: x\r\n\r\nx\r\n","recipients":[{"email":"bad@relay.test"}]}""";

    [Fact]
    public async Task Bad_requests_get_problems_naming_the_cause_and_queue_nothing()
    {
        await using var scenario = await Scenario.StartAsync();
        var config = scenario.NewNodeConfig(InjectApi.Environment(new Dictionary<string, string>
        {
            ["MailCluster__Api__MaxRequestBytes"] = "4096",
            ["MailCluster__Api__MaxRecipients"] = "3",
        }));
        await scenario.StartNodeAsync(config);
        var (keyId, secret) = await InjectApi.CreateKeyAsync(config, [Scenario.SenderDomain]);
        var (_, smtpOnly) = await InjectApi.CreateKeyAsync(config, [Scenario.SenderDomain], ["smtp"]);

        var cases = new (string Name, string? Secret, string Body, HttpStatusCode Status, string Field, string? Detail)[]
        {
            ("malformed JSON", secret, "{\"envelope_sender\":", HttpStatusCode.BadRequest, "body", "not valid JSON"),
            ("missing envelope_sender", secret, """{"content":"x","recipients":[{"email":"a@relay.test"}]}""", HttpStatusCode.UnprocessableEntity, "envelope_sender", "required"),
            ("wrong-typed recipients", secret, """{"envelope_sender":"app@senders.test","content":"x","recipients":"a@relay.test"}""", HttpStatusCode.UnprocessableEntity, "recipients", "must be an array"),
            ("wrong-typed content", secret, """{"envelope_sender":"app@senders.test","content":5,"recipients":[{"email":"a@relay.test"}]}""", HttpStatusCode.UnprocessableEntity, "content", null),
            ("invalid recipient", secret, """{"envelope_sender":"app@senders.test","content":"x","recipients":[{"email":"a@relay.test"},{"email":"not-an-address"}]}""", HttpStatusCode.UnprocessableEntity, "recipients[1].email", "not-an-address"),
            ("invalid sender", secret, """{"envelope_sender":"app@@senders.test","content":"x","recipients":[{"email":"a@relay.test"}]}""", HttpStatusCode.UnprocessableEntity, "envelope_sender", null),
            ("empty recipients", secret, """{"envelope_sender":"app@senders.test","content":"x","recipients":[]}""", HttpStatusCode.UnprocessableEntity, "recipients", "at least one"),
            ("too many recipients", secret, """{"envelope_sender":"app@senders.test","content":"x","recipients":[{"email":"a@relay.test"},{"email":"b@relay.test"},{"email":"c@relay.test"},{"email":"d@relay.test"}]}""", HttpStatusCode.UnprocessableEntity, "recipients", "limit per request is 3"),
            ("oversize body", secret, Good.Replace("x\\r\\n\"", new string('x', 5000) + "\"", StringComparison.Ordinal), HttpStatusCode.RequestEntityTooLarge, "body", "4096"),
            ("unknown template variable", secret, """{"envelope_sender":"app@senders.test","content":{"subject":"hi","text_body":"Dear {{first_name}}"},"recipients":[{"email":"a@relay.test","substitutions":{"first_name":"A"}},{"email":"b@relay.test"}]}""", HttpStatusCode.UnprocessableEntity, "content.text_body", "'first_name' for recipients[1]"),
            ("no key", null, Good, HttpStatusCode.Unauthorized, "Authorization", null),
            ("wrong key", "mck_wrong", Good, HttpStatusCode.Unauthorized, "Authorization", null),
            ("key without scope http", smtpOnly, Good, HttpStatusCode.Unauthorized, "Authorization", "scope http"),
            ("sender outside the key", secret, Good.Replace("app@senders.test", "app@elsewhere.test", StringComparison.Ordinal), HttpStatusCode.Forbidden, "envelope_sender", "app@elsewhere.test"),
            ("From outside the key", secret, """{"envelope_sender":"app@senders.test","content":{"text_body":"x","from":{"email":"ceo@elsewhere.test"}},"recipients":[{"email":"a@relay.test"}]}""", HttpStatusCode.Forbidden, "content.from", null),
        };
        foreach (var (name, key, body, status, field, detail) in cases)
        {
            var answer = await InjectApi.PostAsync(config, key, body);
            InjectApi.AssertProblem(answer, status, field, detail);
            Assert.True(await InjectApi.QueuedAsync(config, Scenario.RelayDomain) == 0, $"{name}: something was queued");
        }

        using (var admin = QueueApiClient.For(config))
        {
            await QueueApiClient.SendAsync(admin, HttpMethod.Post, $"/api/v1/keys/{keyId}/disable", HttpStatusCode.OK);
        }

        InjectApi.AssertProblem(await InjectApi.PostAsync(config, secret, Good), HttpStatusCode.Unauthorized, "Authorization");
        Assert.Equal(0, await InjectApi.QueuedAsync(config, Scenario.RelayDomain));
        Assert.Empty(scenario.Sink.Messages);

        var (_, limited) = await InjectApi.CreateKeyAsync(config, [Scenario.SenderDomain], ratePerMinute: 1);
        var allowed = await InjectApi.PostAsync(config, limited, Good.Replace("bad@", "quota@", StringComparison.Ordinal));
        Assert.True(allowed.Status == HttpStatusCode.OK, allowed.Json.ToString());
        var over = await InjectApi.PostAsync(config, limited, Good.Replace("bad@", "over@", StringComparison.Ordinal));
        InjectApi.AssertProblem(over, HttpStatusCode.TooManyRequests, "Authorization", "quota");
        Assert.True(int.Parse(over.Headers.RetryAfter!.ToString(), System.Globalization.CultureInfo.InvariantCulture) >= 1);

        await scenario.Sink.WaitForRecipientAsync("quota@relay.test", TimeSpan.FromSeconds(60));
        await QueueWait.UntilEmptyAsync(config, Scenario.RelayDomain);
        Assert.DoesNotContain(scenario.Sink.Messages, m => m.Recipients.Contains("over@relay.test") || m.Recipients.Contains("bad@relay.test"));
    }
}
