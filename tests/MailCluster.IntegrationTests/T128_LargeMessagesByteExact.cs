using System.Security.Cryptography;
using MailCluster.IntegrationTests.Infrastructure;
using MimeKit;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T128 (issue 18, large messages): 1 MB and 10 MB messages go over SMTP through a node to the sink byte for byte
/// (SHA-256 of what was sent against what arrived after the one Received field), with the embedded spool keeping such
/// bodies as files beside spool.db (<c>{DataDir}/spool-bodies</c>). Then a 10 MB message queued while the sink refuses
/// survives a SIGKILL of the node in its file and is delivered intact after the restart, and its file is deleted once
/// it was delivered.
/// </summary>
[ParallelScenario]
public class T128_LargeMessagesByteExact
{
    private static readonly TimeSpan Delivery = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task One_and_ten_megabyte_messages_arrive_byte_exact()
    {
        await using var scenario = await Scenario.StartAsync();
        var config = scenario.NewNodeConfig();
        await scenario.StartNodeAsync(config);

        foreach (var (size, seed) in new[] { (1 << 20, 1), (10 << 20, 2) })
        {
            var message = LargeMessage($"large{seed}@{Scenario.RelayDomain}", $"T128 {size}", size, seed);
            var sent = Scenario.WireBytes(message);
            Assert.InRange(sent.Length, size - 16_384, size + 16_384);

            var reply = await Scenario.SendAsync(config.MxPort, message);

            Assert.StartsWith("2.0.0 Ok: queued as ", reply, StringComparison.Ordinal);
            var received = (await scenario.Sink.WaitForMessagesAsync(1, Delivery, m => m.Recipients.Contains($"large{seed}@{Scenario.RelayDomain}"))).Single();
            AssertSameTail(sent, received.Data);
        }

        Assert.True(Directory.Exists(Path.Combine(scenario.DataDir, "spool-bodies")), "the large bodies did not go to the body-file directory");
        await WaitUntilEmptyAsync(Path.Combine(scenario.DataDir, "spool-bodies"));
    }

    [Fact]
    public async Task A_queued_ten_megabyte_message_survives_kill_and_is_delivered_intact_after_restart()
    {
        await using var scenario = await Scenario.StartAsync();
        var accepting = false;
        scenario.Sink.AddRule((stage, _) => stage == Testing.SmtpStage.DataEnd && !Volatile.Read(ref accepting) ? "451 4.3.0 not yet" : null);
        var config = scenario.NewNodeConfig();
        var node = await scenario.StartNodeAsync(config, "node-a");
        var message = LargeMessage($"restart@{Scenario.RelayDomain}", "T128 restart", 10 << 20, seed: 3);
        var sent = Scenario.WireBytes(message);

        var reply = await Scenario.SendAsync(config.MxPort, message);
        node.Kill();

        // Answered 250, so the body was durable: a file of the body's size (plus the Received field) in the directory.
        Assert.StartsWith("2.0.0 Ok: queued as ", reply, StringComparison.Ordinal);
        var bodies = Path.Combine(scenario.DataDir, "spool-bodies");
        var file = Assert.Single(Directory.GetFiles(bodies));
        Assert.InRange(new FileInfo(file).Length, sent.Length + 1, sent.Length + 2048);
        Assert.DoesNotContain(scenario.Sink.Messages, m => m.Data.Length > sent.Length);

        Volatile.Write(ref accepting, true);
        await scenario.StartNodeAsync(config, "node-a-restarted");
        var received = (await scenario.Sink.WaitForMessagesAsync(1, Delivery, m => m.Data.Length > sent.Length)).Single();
        AssertSameTail(sent, received.Data);
        await WaitUntilEmptyAsync(bodies);
    }

    /// <summary>A multipart message of about <paramref name="size"/> bytes on the wire: a text part with lines that
    /// start with dots (stuffed on the wire, unstuffed by the node) and a base64 attachment of random bytes.</summary>
    private static MimeMessage LargeMessage(string to, string subject, int size, int seed)
    {
        var message = Scenario.NewMessage(to, subject);
        var text = new System.Text.StringBuilder();
        for (var i = 0; i < 200; i++)
        {
            text.Append(i % 3 == 0 ? "." : "..").Append(" line ").Append(i).Append(" of the text part\r\n");
        }

        var random = new byte[(long)(size - 12_000) * 3 / 4 * 76 / 78]; // base64: 4 bytes per 3, lines of 76 + CRLF
        new Random(seed).NextBytes(random);
        var attachment = new MimePart("application", "octet-stream")
        {
            Content = new MimeContent(new MemoryStream(random)),
            ContentTransferEncoding = ContentEncoding.Base64,
            FileName = "random.bin",
        };
        message.Body = new Multipart("mixed") { new TextPart("plain") { Text = text.ToString() }, attachment };
        return message;
    }

    /// <summary>DESIGN invariant 4 for a large message: what arrived ends with exactly the bytes sent (compared by
    /// SHA-256, so a failure does not print megabytes), after one Received field.</summary>
    private static void AssertSameTail(byte[] sent, byte[] relayed)
    {
        Assert.True(relayed.Length > sent.Length, $"relayed {relayed.Length} bytes, sent {sent.Length}");
        var tail = relayed.AsSpan(relayed.Length - sent.Length);
        Assert.Equal(Convert.ToHexString(SHA256.HashData(sent)), Convert.ToHexString(SHA256.HashData(tail)));
        var prefix = System.Text.Encoding.ASCII.GetString(relayed.AsSpan(0, relayed.Length - sent.Length));
        Assert.Matches(@"\AReceived: from [^\r\n]+(\r\n\t[^\r\n]+)*\r\n\z", prefix);
    }

    /// <summary>Waits until the spool released every body file (the messages' final outcomes were persisted).</summary>
    private static async Task WaitUntilEmptyAsync(string directory)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (Directory.GetFiles(directory).Length > 0)
        {
            Assert.True(DateTime.UtcNow < deadline, $"body files left after delivery: {string.Join(", ", Directory.GetFiles(directory).Select(Path.GetFileName))}");
            await Task.Delay(200);
        }
    }
}
