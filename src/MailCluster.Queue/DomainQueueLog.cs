using Akka.Event;
using MailCluster.Queue.Protocol;

namespace MailCluster.Queue;

/// <summary>The domain queue's own log lines (Akka's adapter: the actor's path and thread come with them). Delivery
/// outcomes are the mail log's (<see cref="DeliveryLog"/>), not these.</summary>
internal static class DomainQueueLog
{
    public static void HandedOff(this ILoggingAdapter log, string queue, bool writesPending, int deliveries) =>
        log.Info("Domain queue {0} handed off: it stops once its journal writes ({1}) and {2} deliveries are done", queue,
            writesPending ? "pending" : "none", deliveries);

    public static void Recovered(this ILoggingAdapter log, State.DomainQueueState state) =>
        log.Info("Domain queue {0} recovered {1} messages ({2} recipients)", state.Domain, state.Messages.Count, state.RecipientCount);

    public static void BackingOff(this ILoggingAdapter log, string queue, DateTimeOffset until, string failure) =>
        log.Warning("Every host of {0} failed at connection level; the destination backs off until {1:o}, then probes: {2}", queue, until, failure);

    public static void RunFailed(this ILoggingAdapter log, Exception error, string messageId, string queue) =>
        log.Warning(error, "Delivery run of {0} in {1} failed; counted as a transient attempt", messageId, queue);

    public static void Abandoned(this ILoggingAdapter log, MessageAbandoned e, string queue) =>
        log.Warning("Message {0} in {1} abandoned: {2}", e.MessageId, queue, e.Reason);

    public static void DsnRetry(this ILoggingAdapter log, string messageId, string? error) =>
        log.Warning("Queueing the DSN for {0} failed; retrying: {1}", messageId, error);

    public static void DsnQueued(this ILoggingAdapter log, DsnQueued queued, string? error) =>
        log.Info("DSN for {0} ({1}) queued as {2}{3}", queued.MessageId, string.Join(", ", queued.Recipients),
            queued.DsnMessageId ?? "nothing", error is null ? "" : ": " + error);

    public static void PutOnHold(this ILoggingAdapter log, MessageOnHold e, string queue, bool inFlight) =>
        log.Info("Message {0} in {1} put on hold by the operator{2}", e.MessageId, queue, inFlight ? "; the attempt running now finishes" : "");

    public static void ReleasedFromHold(this ILoggingAdapter log, MessageReleased e, string queue, DateTimeOffset? since) =>
        log.Info("Message {0} in {1} released from hold by the operator after {2:0}s", e.MessageId, queue, since is { } s ? (e.At - s).TotalSeconds : 0);

    public static void SuspensionChanged(this ILoggingAdapter log, string queue, Suspensions.DestinationSuspension? now)
    {
        if (now is null)
        {
            log.Info("Domain queue {0}: the suspension of its destination ended; deliveries may start", queue);
        }
        else
        {
            log.Info("Domain queue {0}: deliveries suspended by the operator until {1:o}: {2}", queue, now.Until, now.Reason);
        }
    }
}
