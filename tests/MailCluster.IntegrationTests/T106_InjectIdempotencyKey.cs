using System.Net;
using MailCluster.IntegrationTests.Infrastructure;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T106: <c>Idempotency-Key</c>. The same key and body twice answer the first result (same queue id, marked replayed)
/// and the sink receives one message; the same key with another body is a 422 naming the header; after a restart of
/// the node the key still answers the first result (the table is in the database, not in memory).
/// </summary>
[ParallelScenario]
public sealed class T106_InjectIdempotencyKey
{
    private const string Body = """{"envelope_sender":"app@senders.test","content":"Subject: once\r\n\r\nonly once\r\n","recipients":[{"email":"once@relay.test"}]}""";

    [Fact]
    public async Task Same_key_twice_queues_one_message_even_across_a_restart()
    {
        await using var scenario = await Scenario.StartAsync();
        var config = scenario.NewNodeConfig(InjectApi.Environment());
        var node = await scenario.StartNodeAsync(config);
        var (_, secret) = await InjectApi.CreateKeyAsync(config, [Scenario.SenderDomain]);

        var first = await InjectApi.PostAsync(config, secret, Body, "t106-key");
        Assert.True(first.Status == HttpStatusCode.OK, first.Json.ToString());
        var second = await InjectApi.PostAsync(config, secret, Body, "t106-key");
        Assert.Equal(HttpStatusCode.OK, second.Status);
        Assert.Equal(first.Json.ToString(), second.Json.ToString());
        Assert.True(second.Headers.TryGetValues("Idempotent-Replayed", out _));

        var other = await InjectApi.PostAsync(config, secret, Body.Replace("only once", "another body", StringComparison.Ordinal), "t106-key");
        InjectApi.AssertProblem(other, HttpStatusCode.UnprocessableEntity, "Idempotency-Key");

        await scenario.Sink.WaitForRecipientAsync("once@relay.test", TimeSpan.FromSeconds(60));
        await QueueWait.UntilEmptyAsync(config, Scenario.RelayDomain);
        Assert.Single(scenario.Sink.Messages, m => m.Recipients.Contains("once@relay.test"));

        Assert.Equal(0, await node.StopAsync(TimeSpan.FromSeconds(60)));
        await scenario.StartNodeAsync(config, "restarted");
        var afterRestart = await InjectApi.PostAsync(config, secret, Body, "t106-key");
        Assert.Equal(HttpStatusCode.OK, afterRestart.Status);
        Assert.Equal(first.Json.ToString(), afterRestart.Json.ToString());
        Assert.Equal(0, await InjectApi.QueuedAsync(config, Scenario.RelayDomain));
        Assert.Single(scenario.Sink.Messages, m => m.Recipients.Contains("once@relay.test"));
    }
}
