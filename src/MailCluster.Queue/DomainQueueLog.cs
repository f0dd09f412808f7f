using Akka.Event;
using MailCluster.Queue.Protocol;

namespace MailCluster.Queue;

/// <summary>One line of the domain queue's own log, decided by its pure core (<see cref="State.DomainQueueCore{TReply}"/>)
/// and written by the actor (Akka's adapter: the actor's path and thread come with it). Tests read the format and
/// arguments.</summary>
/// <param name="Args">At most four (<see cref="DomainQueueLog.Write"/>).</param>
internal sealed record LogNote(LogLevel Level, string Format, params object[] Args)
{
    public Exception? Error { get; init; }
}

/// <summary>The domain queue's own log lines. Delivery outcomes are the mail log's (<see cref="DeliveryLog"/>), not
/// these.</summary>
internal static class DomainQueueLog
{
    /// <summary>Writes each of <paramref name="notes"/> in order.</summary>
    public static void Write(this ILoggingAdapter log, IReadOnlyList<LogNote> notes)
    {
        foreach (var note in notes)
        {
            log.Write(note);
        }
    }

    /// <summary>Writes <paramref name="note"/> with its arguments spread (nothing when it is null): Akka 1.5 has no Info(format, params object[]),
    /// so an array passed whole would bind to Info&lt;T1&gt; and print as one "System.Object[]" argument.</summary>
    public static void Write(this ILoggingAdapter log, LogNote? note)
    {
        if (note is null || !log.IsEnabled(note.Level))
        {
            return;
        }

        var (level, cause, format, a) = (note.Level, note.Error!, note.Format, note.Args); // Akka takes a null cause: none
        switch (a.Length)
        {
            case 0:
                log.Log(level, cause, format);
                break;
            case 1:
                log.Log(level, cause, format, a[0]);
                break;
            case 2:
                log.Log(level, cause, format, a[0], a[1]);
                break;
            case 3:
                log.Log(level, cause, format, a[0], a[1], a[2]);
                break;
            default:
                log.Log(level, cause, format, a[0], a[1], a[2], a[3]);
                break;
        }
    }

    public static LogNote HandedOff(string queue, bool writesPending, int deliveries) =>
        Info("Domain queue {0} handed off: it stops once its journal writes ({1}) and {2} deliveries are done", queue,
            writesPending ? "pending" : "none", deliveries);

    public static LogNote Recovered(State.DomainQueueState state) =>
        Info("Domain queue {0} recovered {1} messages ({2} recipients)", state.Domain, state.Messages.Count, state.RecipientCount);

    public static LogNote BackingOff(string queue, DateTimeOffset until, string failure) =>
        Warning("Every host of {0} failed at connection level; the destination backs off until {1:o}, then probes: {2}", queue, until, failure);

    public static LogNote RunFailed(Exception error, string messageId, string queue) =>
        Warning("Delivery run of {0} in {1} failed; counted as a transient attempt", messageId, queue) with { Error = error };

    public static LogNote Abandoned(MessageAbandoned e, string queue) =>
        Warning("Message {0} in {1} abandoned: {2}", e.MessageId, queue, e.Reason);

    public static LogNote DsnRetry(string messageId, string? error) =>
        Warning("Queueing the DSN for {0} failed; retrying: {1}", messageId, error ?? "");

    public static LogNote DsnQueued(DsnQueued queued, string? error) =>
        Info("DSN for {0} ({1}) queued as {2}{3}", queued.MessageId, string.Join(", ", queued.Recipients),
            queued.DsnMessageId ?? "nothing", error is null ? "" : ": " + error);

    public static LogNote Flushed(string queue, int count) => Info("Queue {0} flushed by the operator: {1} messages due now", queue, count);

    /// <param name="what">"deleted from" or "bounced in".</param>
    public static LogNote ByOperator(string messageId, string what, string queue) => Info("Message {0} {1} {2} by the operator", messageId, what, queue);

    public static LogNote PutOnHold(MessageOnHold e, string queue, bool inFlight) =>
        Info("Message {0} in {1} put on hold by the operator{2}", e.MessageId, queue, inFlight ? "; the attempt running now finishes" : "");

    public static LogNote ReleasedFromHold(MessageReleased e, string queue, DateTimeOffset? since) =>
        Info("Message {0} in {1} released from hold by the operator after {2:0}s", e.MessageId, queue, since is { } s ? (e.At - s).TotalSeconds : 0);

    public static LogNote SuspensionChanged(string queue, Suspensions.DestinationSuspension? now) => now is null
        ? Info("Domain queue {0}: the suspension of its destination ended; deliveries may start", queue)
        : Info("Domain queue {0}: deliveries suspended by the operator until {1:o}: {2}", queue, now.Until, now.Reason);

    private static LogNote Info(string format, params object[] args) => new(LogLevel.InfoLevel, format, args);

    private static LogNote Warning(string format, params object[] args) => new(LogLevel.WarningLevel, format, args);
}
