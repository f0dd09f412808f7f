using System.Text;
using Akka.Actor;
using MailCluster.Queue;
using MailCluster.Queue.Delivery;
using MailCluster.Queue.Protocol;
using MailCluster.Queue.Serialization;
using MailCluster.Queue.State;
using Microsoft.Extensions.Logging;
using Xunit;

namespace MailCluster.Queue.Tests.State;

/// <summary>The delivery records of the mail log: what each property is taken from, and that the relay they name
/// never reaches the journal.</summary>
public sealed class DeliveryLogTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);
    private static readonly RetryPolicy Retry = new(new RetryOptions { InitialSeconds = 60, MaxSeconds = 600, MaxAgeSeconds = 3600, Jitter = 0 });

    [Fact]
    public void Each_recipient_gets_a_record_with_its_attempt_number_and_the_delay_since_arrival()
    {
        var state = DomainQueueState.Empty("example.com");
        state = state.Apply(state.Decide(new Enqueue("example.com", "M1", "s@sender.test", ["a@example.com", "b@example.com"], T0))!);
        var first = state.Decide("M1", Result(
            new RecipientOutcome("a@example.com", OutcomeKind.Transient, 451, "4.3.0", "later"),
            new RecipientOutcome("b@example.com", OutcomeKind.Transient, 451, "4.3.0", "later")), T0.AddSeconds(5), Retry, () => 0.5)!;
        state = state.Apply(first);
        var second = state.Decide("M1", Result(
            new RecipientOutcome("a@example.com", OutcomeKind.Delivered, 250, "2.0.0", "ok"),
            new RecipientOutcome("b@example.com", OutcomeKind.Permanent, 550, "5.1.1", "no such user")), T0.AddSeconds(90), Retry, () => 0.5)!;
        var logger = new RecordingLogger();

        DeliveryLog.Attempt(logger, second, state.Messages["M1"]);

        Assert.Equal(2, logger.Records.Count);
        var (sent, bounced) = (logger.Records[0], logger.Records[1]);
        Assert.Equal(("M1", "a@example.com", "sent", "mx.example.com[192.0.2.1]:25", 90.0, 2, "2.0.0", "250 2.0.0 ok"),
            ((string)sent["QueueId"]!, (string)sent["Recipient"]!, (string)sent["Status"]!, (string)sent["Relay"]!, (double)sent["Delay"]!,
                (int)sent["Attempt"]!, (string)sent["Dsn"]!, (string)sent["Reply"]!));
        Assert.Equal(("bounced", 2, "5.1.1"), ((string)bounced["Status"]!, (int)bounced["Attempt"]!, (string)bounced["Dsn"]!));
    }

    [Theory]
    [InlineData(RecipientResultKind.Delivered, "sent")]
    [InlineData(RecipientResultKind.Deferred, "deferred")]
    [InlineData(RecipientResultKind.Failed, "bounced")]
    [InlineData(RecipientResultKind.Expired, "expired")]
    public void Statuses_are_named_as_postfix_names_them(RecipientResultKind kind, string status) =>
        Assert.Equal(status, DeliveryLog.StatusOf(kind));

    [Fact]
    public void The_relay_is_not_part_of_the_persisted_attempt()
    {
        using var system = ActorSystem.Create("delivery-log-test");
        var serializer = new QueueSerializer((ExtendedActorSystem)system);
        var attempt = new AttemptCompleted("M1", T0, [new RecipientResult("a@example.com", RecipientResultKind.Delivered, 250, "2.0.0", "ok", null)], "mx", null);

        var bytes = serializer.ToBinary(attempt with { Relay = "mx[192.0.2.1]:25" });

        Assert.Equal(Encoding.UTF8.GetString(serializer.ToBinary(attempt)), Encoding.UTF8.GetString(bytes));
        Assert.Null(((AttemptCompleted)serializer.FromBinary(bytes, serializer.Manifest(attempt))).Relay);
    }

    private static DeliveryResult Result(params RecipientOutcome[] outcomes) =>
        new(outcomes, "mx.example.com[192.0.2.1]", null) { Relay = "mx.example.com[192.0.2.1]:25" };

    /// <summary>Keeps each record's named properties, as a structured sink (the JSON console formatter) sees them.</summary>
    private sealed class RecordingLogger : ILogger
    {
        public List<Dictionary<string, object?>> Records { get; } = [];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Records.Add(((IEnumerable<KeyValuePair<string, object?>>)state!).ToDictionary(p => p.Key, p => p.Value));
    }
}
