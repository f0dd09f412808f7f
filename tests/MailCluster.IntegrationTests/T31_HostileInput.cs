using System.Text;
using MailCluster.IntegrationTests.Infrastructure;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T31 (DESIGN invariants 4 and 5): hostile input gets a clear answer and queues nothing it should not.
/// SMTP smuggling (CVE-2023-51764 class): each bare-CR/LF end-of-data variant followed by a smuggled
/// transaction queues at most one message, and never the smuggled one. NUL bytes, mail loops (more than 50
/// Received headers), a client that disconnects mid-DATA, and a client that talks before the greeting.
/// </summary>
[ParallelScenario]
public sealed class T31_HostileInput : IAsyncLifetime
{
    private Scenario _scenario = null!;
    private NodeConfig _config = null!;

    public static TheoryData<string, string> SmugglingVariants => new()
    {
        { "lf-dot-lf", "\n.\n" },
        { "lf-dot-crlf", "\n.\r\n" },
        { "cr-dot-cr", "\r.\r" },
        { "cr-dot-lf", "\r.\n" },
        { "lf-dot-cr", "\n.\r" },
        { "cr-dot-crlf", "\r.\r\n" },
        { "crlf-nul-dot-crlf", "\r\n\0.\r\n" },
    };

    public async ValueTask InitializeAsync()
    {
        _scenario = await Scenario.StartAsync();
        _config = _scenario.NewNodeConfig(new Dictionary<string, string> { ["MailCluster__Smtp__GreetingDelayMilliseconds"] = "300" });
        await _scenario.StartNodeAsync(_config);
    }

    public async ValueTask DisposeAsync() => await _scenario.DisposeAsync();

    private async Task<RawSmtpClient> InDataAsync(string recipient)
    {
        var client = await RawSmtpClient.ConnectAsync(_config.MxPort);
        await client.ReadReplyAsync();
        await client.CommandAsync("EHLO client.example");
        await client.CommandAsync("MAIL FROM:<sender@example.org>");
        Assert.StartsWith("250 ", await client.CommandAsync($"RCPT TO:<{recipient}>"), StringComparison.Ordinal);
        Assert.StartsWith("354 ", await client.CommandAsync("DATA"), StringComparison.Ordinal);
        return client;
    }

    [Theory]
    [MemberData(nameof(SmugglingVariants))]
    public async Task Smuggled_transaction_is_never_queued(string name, string fakeEnd)
    {
        var outer = $"outer-{name}@relay.test";
        var smuggled = $"smuggled-{name}@relay.test";
        await using (var client = await InDataAsync(outer))
        {
            await client.WriteAsync(
                $"Subject: {name}\r\n\r\nbody{fakeEnd}MAIL FROM:<evil@example.org>\r\nRCPT TO:<{smuggled}>\r\nDATA\r\nSubject: smuggled\r\n\r\nx\r\n.\r\nQUIT\r\n");
            var reply = await client.ReadReplyAsync();

            // Either the session is ended for the bare line ending (521), or the whole thing is one message
            // (a NUL before the dot is content, refused with 554) — never 250 followed by a second transaction.
            Assert.Matches("^(521 5.5.2|554 5.6.0) ", reply);
        }

        await Scenario.SendAsync(_config.MxPort, Scenario.NewMessage($"control-{name}@relay.test", "control"));
        await _scenario.Sink.WaitForRecipientAsync($"control-{name}@relay.test", TimeSpan.FromSeconds(60));
        Assert.DoesNotContain(_scenario.Sink.Messages, m => m.Recipients.Contains(smuggled) || m.Recipients.Contains(outer));
    }

    [Fact]
    public async Task Nul_in_data_is_refused()
    {
        await using var client = await InDataAsync("nul@relay.test");
        await client.WriteAsync("Subject: nul\r\n\r\nbad\0byte\r\n.\r\n");
        Assert.StartsWith("554 5.6.0 ", await client.ReadReplyAsync(), StringComparison.Ordinal);
        Assert.StartsWith("250 ", await client.CommandAsync("NOOP"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Text_line_over_1000_octets_is_refused()
    {
        await using var client = await InDataAsync("long@relay.test");
        await client.WriteAsync("Subject: long\r\n\r\n" + new string('z', 1200) + "\r\n.\r\n");
        Assert.StartsWith("554 5.6.0 ", await client.ReadReplyAsync(), StringComparison.Ordinal);
        Assert.StartsWith("250 ", await client.CommandAsync("NOOP"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Mail_loop_is_refused()
    {
        await using var client = await InDataAsync("loop@relay.test");
        var received = string.Concat(Enumerable.Range(0, 51).Select(i => $"Received: from hop{i}.example by hop{i + 1}.example; Sun, 29 Nov 2026 00:00:00 +0000\r\n"));
        await client.WriteAsync(received + "Subject: loop\r\n\r\nround and round\r\n.\r\n");
        Assert.StartsWith("554 5.4.6 ", await client.ReadReplyAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Disconnect_in_the_middle_of_data_queues_nothing()
    {
        await using (var client = await InDataAsync("cut@relay.test"))
        {
            await client.WriteAsync("Subject: cut\r\n\r\nhalf a message\r\n");
        }

        await Scenario.SendAsync(_config.MxPort, Scenario.NewMessage("after-cut@relay.test", "control"));
        await _scenario.Sink.WaitForRecipientAsync("after-cut@relay.test", TimeSpan.FromSeconds(60));
        Assert.DoesNotContain(_scenario.Sink.Messages, m => m.Recipients.Contains("cut@relay.test"));
    }

    [Fact]
    public async Task Talking_before_the_greeting_is_refused()
    {
        await using var client = await RawSmtpClient.ConnectAsync(_config.MxPort);
        await client.WriteAsync(Encoding.ASCII.GetBytes("EHLO impatient.example\r\n"));
        Assert.StartsWith("554 5.5.1 ", await client.ReadReplyAsync(), StringComparison.Ordinal);
        Assert.True(await client.IsClosedAsync(TimeSpan.FromSeconds(10)));
    }
}
