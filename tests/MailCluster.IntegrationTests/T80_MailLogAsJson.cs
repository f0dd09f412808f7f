using System.Globalization;
using System.Text.Json;
using MailCluster.Edge.Auth;
using MailCluster.IntegrationTests.Infrastructure;
using MailKit.Net.Smtp;
using MailKit.Security;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T80 (#14, the mail log): a real node with the JSON console formatter. A message is submitted with MailKit on the
/// submission port (STARTTLS, one failed AUTH, then a good one), delivered through dnsmasq's MX to the sink, which
/// defers the first attempt (451) and accepts the second; a relay to a foreign domain is refused on port 25. The node's
/// stdout, read back as JSON lines, holds the records of that message's life with their named properties, and Akka's
/// own lines arrive formatted with their arguments.
/// </summary>
[ParallelScenario]
public sealed class T80_MailLogAsJson
{
    private const string Password = "correct horse battery staple";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task One_messages_life_is_read_back_as_json_records()
    {
        await using var scenario = await Scenario.StartAsync();
        scenario.Sink.RefuseDataEnd(1, "451 4.3.0 try again later");
        var config = scenario.NewNodeConfig(new Dictionary<string, string>
        {
            ["Logging__Console__FormatterName"] = "json",
            ["Logging__Console__FormatterOptions__TimestampFormat"] = "yyyy-MM-ddTHH:mm:ss.fffZ",
            ["Logging__Console__FormatterOptions__UseUtcTimestamp"] = "true",
            ["MailCluster__Smtp__Users__0__Name"] = "alice",
            ["MailCluster__Smtp__Users__0__PasswordHash"] = PasswordHasher.Hash(Password, iterations: 1000),
            ["MailCluster__Smtp__Users__0__AllowedSenders__0"] = "alice@example.org",
            ["MailCluster__Smtp__AuthFailureDelayMilliseconds"] = "10",
        });
        var node = await scenario.StartNodeAsync(config);

        var message = Scenario.NewMessage($"bob@{Scenario.RelayDomain}", "T80 mail log", from: "alice@example.org");
        string reply;
        using (var client = new SmtpClient())
        {
            client.ServerCertificateValidationCallback = (_, _, _, _) => true; // the node's self-signed certificate
            await client.ConnectAsync("127.0.0.1", config.SubmissionPort, SecureSocketOptions.StartTls, TestContext.Current.CancellationToken);
            await Assert.ThrowsAsync<AuthenticationException>(() => client.AuthenticateAsync("alice", "wrong", TestContext.Current.CancellationToken));
            await client.AuthenticateAsync("alice", Password, TestContext.Current.CancellationToken);
            reply = await client.SendAsync(Scenario.WireFormat, message, TestContext.Current.CancellationToken);
            await client.DisconnectAsync(true, TestContext.Current.CancellationToken);
        }

        var queueId = reply[(reply.LastIndexOf(' ') + 1)..];
        await using (var relay = await RawSmtpClient.ConnectAsync(config.MxPort))
        {
            await relay.ReadReplyAsync();
            await relay.CommandAsync("EHLO t80.example");
            Assert.StartsWith("250 ", await relay.CommandAsync("MAIL FROM:<mallory@example.org>"), StringComparison.Ordinal);
            Assert.StartsWith("554 5.7.1 ", await relay.CommandAsync("RCPT TO:<victim@elsewhere.example>"), StringComparison.Ordinal);
        }

        await scenario.Sink.WaitForMessageAsync(Wait);
        await node.WaitForLogAsync("\"Status\":\"sent\"", Wait);
        var records = JsonRecords(node.Log);

        var submission = Single(records, "SmtpConnection", r => r.Int("Port") == config.SubmissionPort);
        Assert.Equal("127.0.0.1", submission.Text("Client"));
        Assert.Equal("submission", submission.Text("Listener"));
        Assert.Equal("none", submission.Text("Tls")); // STARTTLS comes later, in its own record
        var session = submission.Text("Session");
        Assert.StartsWith("TLSv1.", Single(records, "SmtpTlsStarted", r => r.Text("Session") == session).Text("Tls"), StringComparison.Ordinal);

        // MailKit tries each offered mechanism before it gives up: one failure record per try.
        var failures = records.Where(r => r.Event == "SmtpAuthFailed").ToList();
        Assert.NotEmpty(failures);
        Assert.All(failures, f => Assert.Equal(("alice", "127.0.0.1", session), (f.Text("User"), f.Text("Client"), f.Text("Session"))));
        Assert.All(failures, f => Assert.Contains(f.Text("Mechanism"), (string[])["PLAIN", "LOGIN"]));
        var succeeded = Single(records, "SmtpAuthSucceeded", r => r.Text("Session") == session);
        Assert.Equal("alice", succeeded.Text("User"));

        var accepted = Single(records, "SmtpAccepted", r => r.Text("QueueId") == queueId);
        Assert.Equal(("127.0.0.1", "alice", "alice@example.org", 1), (accepted.Text("Client"), accepted.Text("User"), accepted.Text("Sender"), accepted.Int("Recipients")));
        Assert.Equal(Scenario.WireBytes(message).Length, accepted.Int("Size"));
        Assert.Equal($"<{message.MessageId}>", accepted.Text("MessageId"));

        var outcomes = records.Where(r => r.Event == "DeliveryOutcome" && r.Text("QueueId") == queueId).ToList();
        Assert.Equal(2, outcomes.Count);
        var (deferred, sent) = (outcomes[0], outcomes[1]);
        var relayName = $"mx1.relay.test[127.0.0.1]:{scenario.Sink.Port.ToString(CultureInfo.InvariantCulture)}";
        Assert.Equal(("deferred", 1, $"bob@{Scenario.RelayDomain}", relayName), (deferred.Text("Status"), deferred.Int("Attempt"), deferred.Text("Recipient"), deferred.Text("Relay")));
        Assert.Equal("4.3.0", deferred.Text("Dsn"));
        Assert.StartsWith("451 4.3.0 try again later", deferred.Text("Reply"), StringComparison.Ordinal);
        Assert.Equal(("sent", 2, relayName), (sent.Text("Status"), sent.Int("Attempt"), sent.Text("Relay")));
        Assert.StartsWith("2.", sent.Text("Dsn"), StringComparison.Ordinal);
        Assert.StartsWith("250 ", sent.Text("Reply"), StringComparison.Ordinal);
        Assert.InRange(deferred.Number("Delay"), 0, 60);
        Assert.InRange(sent.Number("Delay"), deferred.Number("Delay"), 120); // seconds since arrival, not since the last try

        var rejected = Single(records, "SmtpRejected", r => r.Text("Command") == "RCPT");
        Assert.Equal((554, "5.7.1", "victim@elsewhere.example", "mallory@example.org"),
            (rejected.Int("Code"), rejected.Text("Dsn"), rejected.Text("Recipient"), rejected.Text("Sender")));
        Assert.Contains("Relay access denied", rejected.Text("Reason"), StringComparison.Ordinal);

        // Akka's lines come through the logger factory formatted: the cluster's join names this node's address.
        var akka = records.Where(r => r.Category.StartsWith("Akka", StringComparison.Ordinal)).ToList();
        Assert.Contains(akka, r => r.Message.Contains("mailcluster@127.0.0.1:", StringComparison.Ordinal));
        Assert.DoesNotContain(akka, r => r.Message.Contains("{0}", StringComparison.Ordinal));
    }

    /// <summary>The mail log's event ids (MailCluster.Edge.MailLog, MailCluster.Queue.DeliveryLog).</summary>
    private static readonly Dictionary<int, string> EventNames = new()
    {
        [1400] = "DeliveryOutcome",
        [1401] = "SmtpConnection",
        [1402] = "SmtpTlsStarted",
        [1403] = "SmtpAuthSucceeded",
        [1404] = "SmtpAuthFailed",
        [1405] = "SmtpAccepted",
        [1406] = "SmtpRejected",
    };

    private static LogRecord Single(List<LogRecord> records, string eventName, Func<LogRecord, bool> match) =>
        Assert.Single(records, r => r.Event == eventName && match(r));

    /// <summary>Every stdout line of the node that is a JSON object (the console formatter writes one per line).</summary>
    private static List<LogRecord> JsonRecords(string log) =>
        [.. log.Split('\n').Select(l => l.Trim()).Where(l => l.StartsWith('{')).Select(l => new LogRecord(JsonDocument.Parse(l).RootElement))];

    private sealed record LogRecord(JsonElement Json)
    {
        /// <summary>The record's event name, from its id (the JSON console formatter writes the id only).</summary>
        public string Event => Json.TryGetProperty("EventId", out var id) && EventNames.TryGetValue(id.GetInt32(), out var name) ? name : "";

        public string Category => Json.GetProperty(nameof(Category)).GetString() ?? "";

        public string Message => Json.GetProperty(nameof(Message)).GetString() ?? "";

        public string Text(string property) => State(property).GetString() ?? "";

        public int Int(string property) => State(property).GetInt32();

        public double Number(string property) => State(property).GetDouble();

        private JsonElement State(string property) =>
            Json.GetProperty("State").TryGetProperty(property, out var value) ? value : throw new KeyNotFoundException($"{property} in {Json}");
    }
}
