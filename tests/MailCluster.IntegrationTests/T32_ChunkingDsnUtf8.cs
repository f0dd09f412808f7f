using System.Text;
using MailCluster.IntegrationTests.Infrastructure;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T32: CHUNKING/BDAT (RFC 3030) delivers byte-exact and consumes refused chunks; DSN parameters (RFC 3461)
/// are validated; SMTPUTF8 (RFC 6531) is required for UTF-8 addresses (553 5.6.7) and accepted with it.
/// </summary>
[ParallelScenario]
public sealed class T32_ChunkingDsnUtf8 : IAsyncLifetime
{
    private Scenario _scenario = null!;
    private NodeConfig _config = null!;

    public async ValueTask InitializeAsync()
    {
        _scenario = await Scenario.StartAsync();
        _config = _scenario.NewNodeConfig();
        await _scenario.StartNodeAsync(_config);
    }

    public async ValueTask DisposeAsync() => await _scenario.DisposeAsync();

    private async Task<RawSmtpClient> GreetedAsync()
    {
        var client = await RawSmtpClient.ConnectAsync(_config.MxPort);
        await client.ReadReplyAsync();
        var ehlo = await client.CommandAsync("EHLO client.example");
        Assert.Contains("CHUNKING", ehlo, StringComparison.Ordinal);
        Assert.Contains("DSN", ehlo, StringComparison.Ordinal);
        Assert.Contains("SMTPUTF8", ehlo, StringComparison.Ordinal);
        return client;
    }

    [Fact]
    public async Task Bdat_chunks_are_delivered_byte_exact()
    {
        await using var client = await GreetedAsync();
        Assert.StartsWith("503 ", await WriteChunkAsync(client, "BDAT 5", "hello"), StringComparison.Ordinal);
        await client.CommandAsync("MAIL FROM:<bdat@example.org>");
        await client.CommandAsync("RCPT TO:<bdat@relay.test>");
        var part1 = "Subject: chunked\r\n\r\nfirst part, with a line\r\n.\r\nthat looks like an end\r\n";
        var part2 = "and the rest\r\n";
        Assert.StartsWith("250 2.0.0 ", await WriteChunkAsync(client, $"BDAT {part1.Length}", part1), StringComparison.Ordinal);
        Assert.StartsWith("250 2.0.0 ", await WriteChunkAsync(client, $"BDAT {part2.Length} LAST", part2), StringComparison.Ordinal);

        var received = await _scenario.Sink.WaitForRecipientAsync("bdat@relay.test", TimeSpan.FromSeconds(60));
        Assert.EndsWith("\r\n" + part1 + part2, Encoding.UTF8.GetString(received.Data), StringComparison.Ordinal);
    }

    private static async Task<string> WriteChunkAsync(RawSmtpClient client, string command, string chunk)
    {
        await client.WriteAsync(command + "\r\n" + chunk);
        return await client.ReadReplyAsync();
    }

    [Fact]
    public async Task Dsn_parameters_are_validated()
    {
        await using var client = await GreetedAsync();
        Assert.StartsWith("501 ", await client.CommandAsync("MAIL FROM:<d@example.org> RET=MAYBE"), StringComparison.Ordinal);
        Assert.StartsWith("250 ", await client.CommandAsync("MAIL FROM:<d@example.org> RET=HDRS ENVID=env+2B1"), StringComparison.Ordinal);
        Assert.StartsWith("501 ", await client.CommandAsync("RCPT TO:<dsn@relay.test> NOTIFY=NEVER,SUCCESS"), StringComparison.Ordinal);
        Assert.StartsWith("250 ", await client.CommandAsync("RCPT TO:<dsn@relay.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;dsn+40relay.test"), StringComparison.Ordinal);
        await client.CommandAsync("DATA");
        Assert.StartsWith("250 2.0.0 ", await client.CommandAsync("Subject: dsn\r\n\r\nx\r\n."), StringComparison.Ordinal);
        await _scenario.Sink.WaitForRecipientAsync("dsn@relay.test", TimeSpan.FromSeconds(60));
    }

    [Fact]
    public async Task Utf8_addresses_need_smtputf8()
    {
        await using var client = await GreetedAsync();
        Assert.StartsWith("553 5.6.7 ", await client.CommandAsync("MAIL FROM:<jörg@example.org>"), StringComparison.Ordinal);
        Assert.StartsWith("250 ", await client.CommandAsync("MAIL FROM:<joerg@example.org>"), StringComparison.Ordinal);
        Assert.StartsWith("553 5.6.7 ", await client.CommandAsync("RCPT TO:<müller@relay.test>"), StringComparison.Ordinal);
        await client.CommandAsync("RSET");
        Assert.StartsWith("250 ", await client.CommandAsync("MAIL FROM:<jörg@example.org> SMTPUTF8"), StringComparison.Ordinal);
        Assert.StartsWith("250 ", await client.CommandAsync("RCPT TO:<müller@relay.test>"), StringComparison.Ordinal);
    }
}
