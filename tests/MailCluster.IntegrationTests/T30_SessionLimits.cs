using System.Net;
using MailCluster.IntegrationTests.Infrastructure;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T30 (DESIGN invariant 5): every session limit is enforced and answered with its RFC 5321/3463 code:
/// connections per client (421 4.7.0 at the greeting), command line length (500), recipients (452 4.5.3),
/// message size (552 5.3.4, declared and real), bad commands (421 4.7.0), messages per connection, idle
/// timeout (421 4.4.2) and a minimum data rate against slowloris. Clients in a trusted network (here 127.0.0.1) are
/// exempt from the per-client limit, not from the node's.
/// </summary>
[ParallelScenario]
public sealed class T30_SessionLimits : IAsyncLifetime
{
    private Scenario _scenario = null!;
    private NodeConfig _config = null!;

    public async ValueTask InitializeAsync()
    {
        _scenario = await Scenario.StartAsync();
        _config = _scenario.NewNodeConfig(new Dictionary<string, string>
        {
            ["MailCluster__Smtp__MaxConnectionsPerClient"] = "3",
            ["MailCluster__Smtp__MaxConnections"] = "5",
            ["MailCluster__Smtp__MaxRecipients"] = "3",
            ["MailCluster__Smtp__MaxMessageSize"] = "2000",
            ["MailCluster__Smtp__MaxBadCommands"] = "3",
            ["MailCluster__Smtp__MaxMessagesPerConnection"] = "2",
            ["MailCluster__Smtp__IdleTimeoutSeconds"] = "2",
            ["MailCluster__Smtp__MinDataRateBytesPerSecond"] = "1000",
            ["MailCluster__Smtp__DataRateGraceSeconds"] = "1",
            ["MailCluster__Smtp__TrustedNetworks__0"] = "127.0.0.1/32",
        });
        await _scenario.StartNodeAsync(_config);
    }

    public async ValueTask DisposeAsync() => await _scenario.DisposeAsync();

    private async Task<RawSmtpClient> GreetedAsync(IPAddress? from = null)
    {
        var client = await RawSmtpClient.ConnectAsync(_config.MxPort, from: from);
        Assert.StartsWith("220 ", await client.ReadReplyAsync(), StringComparison.Ordinal);
        Assert.StartsWith("250", await client.CommandAsync("EHLO client.example"), StringComparison.Ordinal);
        return client;
    }

    [Fact]
    public async Task Connections_per_client_are_capped_at_the_greeting()
    {
        var from = IPAddress.Parse("127.0.0.3");
        var open = new List<RawSmtpClient>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                open.Add(await GreetedAsync(from));
            }

            await using var fourth = await RawSmtpClient.ConnectAsync(_config.MxPort, from: from);
            Assert.StartsWith("421 4.7.0 ", await fourth.ReadReplyAsync(), StringComparison.Ordinal);
            Assert.True(await fourth.IsClosedAsync(TimeSpan.FromSeconds(10)));

            // Another client address is not affected.
            await using var other = await GreetedAsync(IPAddress.Parse("127.0.0.4"));
        }
        finally
        {
            foreach (var client in open)
            {
                await client.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task A_trusted_client_is_not_capped_per_client_but_the_node_total_applies()
    {
        var trusted = IPAddress.Loopback; // listed in TrustedNetworks; MaxConnectionsPerClient is 3, MaxConnections 5
        var open = new List<RawSmtpClient>();
        try
        {
            for (var i = 0; i < 5; i++)
            {
                open.Add(await GreetedAsync(trusted));
            }

            // The sixth is over the node's total (not the per-client limit, whose reply names the client).
            await using var sixth = await RawSmtpClient.ConnectAsync(_config.MxPort, from: trusted);
            Assert.Equal("421 4.7.0 mc.test Too many connections, try again later", await sixth.ReadReplyAsync());
        }
        finally
        {
            foreach (var client in open)
            {
                await client.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Connections_per_node_are_capped_at_the_greeting()
    {
        var open = new List<RawSmtpClient>();
        try
        {
            for (var i = 0; i < 5; i++)
            {
                open.Add(await GreetedAsync(IPAddress.Parse($"127.0.1.{i + 1}")));
            }

            await using var sixth = await RawSmtpClient.ConnectAsync(_config.MxPort, from: IPAddress.Parse("127.0.1.9"));
            Assert.StartsWith("421 4.7.0 ", await sixth.ReadReplyAsync(), StringComparison.Ordinal);
        }
        finally
        {
            foreach (var client in open)
            {
                await client.DisposeAsync();
            }
        }

        // Slots are released when connections close.
        await Task.Delay(500);
        await using var again = await GreetedAsync(IPAddress.Parse("127.0.1.9"));
    }

    [Fact]
    public async Task Long_command_line_is_refused_without_buffering()
    {
        await using var client = await GreetedAsync();
        Assert.StartsWith("500 ", await client.CommandAsync("NOOP " + new string('x', 100_000)), StringComparison.Ordinal);
        Assert.StartsWith("250 ", await client.CommandAsync("NOOP"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Recipients_and_size_limits()
    {
        await using var client = await GreetedAsync();
        Assert.StartsWith("552 5.3.4 ", await client.CommandAsync("MAIL FROM:<a@example.org> SIZE=5000"), StringComparison.Ordinal);
        Assert.StartsWith("250 ", await client.CommandAsync("MAIL FROM:<a@example.org> SIZE=100"), StringComparison.Ordinal);
        for (var i = 0; i < 3; i++)
        {
            Assert.StartsWith("250 ", await client.CommandAsync($"RCPT TO:<r{i}@relay.test>"), StringComparison.Ordinal);
        }

        Assert.StartsWith("452 4.5.3 ", await client.CommandAsync("RCPT TO:<r3@relay.test>"), StringComparison.Ordinal);
        Assert.StartsWith("354 ", await client.CommandAsync("DATA"), StringComparison.Ordinal);
        await client.WriteAsync("Subject: big\r\n\r\n" + string.Join("\r\n", Enumerable.Repeat(new string('y', 70), 60)) + "\r\n.\r\n");
        Assert.StartsWith("552 5.3.4 ", await client.ReadReplyAsync(), StringComparison.Ordinal);
        Assert.StartsWith("250 ", await client.CommandAsync("NOOP"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Too_many_bad_commands_end_the_session()
    {
        await using var client = await GreetedAsync();
        for (var i = 0; i < 3; i++)
        {
            Assert.StartsWith("500 5.5.2 ", await client.CommandAsync("BOGUS"), StringComparison.Ordinal);
        }

        Assert.StartsWith("421 4.7.0 ", await client.CommandAsync("BOGUS"), StringComparison.Ordinal);
        Assert.True(await client.IsClosedAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task Messages_per_connection_are_capped()
    {
        await using var client = await GreetedAsync();
        for (var i = 0; i < 2; i++)
        {
            await client.CommandAsync("MAIL FROM:<a@example.org>");
            await client.CommandAsync($"RCPT TO:<count{i}@relay.test>");
            await client.CommandAsync("DATA");
            Assert.StartsWith("250 2.0.0 ", await client.CommandAsync("Subject: n\r\n\r\nx\r\n."), StringComparison.Ordinal);
        }

        Assert.StartsWith("421 4.7.0 ", await client.CommandAsync("MAIL FROM:<a@example.org>"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Idle_session_times_out()
    {
        await using var client = await GreetedAsync();
        Assert.StartsWith("421 4.4.2 ", await client.ReadReplyAsync(TimeSpan.FromSeconds(30)), StringComparison.Ordinal);
        Assert.True(await client.IsClosedAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task Slow_data_is_cut_off()
    {
        await using var client = await GreetedAsync();
        await client.CommandAsync("MAIL FROM:<a@example.org>");
        await client.CommandAsync("RCPT TO:<slow@relay.test>");
        Assert.StartsWith("354 ", await client.CommandAsync("DATA"), StringComparison.Ordinal);
        string reply = "";
        for (var i = 0; i < 30 && reply.Length == 0; i++)
        {
            try
            {
                await client.WriteAsync("x");
            }
            catch (IOException)
            {
                break;
            }

            await Task.Delay(200);
            reply = await client.ReadReplyAsync(TimeSpan.FromMilliseconds(100)).ContinueWith(t => t.IsCompletedSuccessfully ? t.Result : "");
        }

        if (reply.Length == 0)
        {
            reply = await client.ReadReplyAsync();
        }

        Assert.StartsWith("421 4.4.2 ", reply, StringComparison.Ordinal);
    }
}
