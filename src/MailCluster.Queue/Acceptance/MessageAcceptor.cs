using Akka.Actor;
using MailCluster.Queue.Buckets;
using MailCluster.Queue.Protocol;
using MailCluster.Queue.Spool;
using Microsoft.Extensions.Logging;

namespace MailCluster.Queue.Acceptance;

/// <summary>
/// Makes an incoming message durable before the edge says 250 (DESIGN invariant 1), for mail from clients and for DSNs
/// alike, in two sequential durable round trips per message, in one of two orders:
/// <list type="bullet">
/// <item>where the spool can store a body committed in one transaction (<see cref="ISpoolStore.WritesCommittedAtOnce"/>:
/// the embedded SQLite spool, bodies below its file threshold): every recipient domain persists Enqueued → the body is
/// written already committed → Accepted. One spool transaction per message instead of two, for the same two durable
/// round trips in sequence: less CPU per message, most while relaying (docs/BENCHMARKS.md, "Session s35");</item>
/// <item>otherwise (PostgreSQL, bodies kept as files): (spool the body, uncommitted ‖ every recipient domain persists
/// Enqueued) → commit the body → Accepted.</item>
/// </list>
/// Only a completed commit returns <see cref="AcceptOutcome.Accepted"/>; a failure anywhere returns
/// <see cref="AcceptOutcome.Failed"/> (the edge answers 451 4.3.0).
/// <para>Why this keeps the guarantee "a failure never leaves a deliverable message": a body is delivered only when
/// the spool says Committed, and the commit is written only after the body write AND every Enqueued event were
/// acknowledged durable (in the first order the commit is written with the body, after the events). An Enqueued event
/// may become durable before its body (in the first order it always does); a domain queue that finds the body Missing
/// while the message is younger than the commit grace treats it like Uncommitted (waits), and abandons it after the
/// grace (DomainQueueActor). On any failure the body, if it was
/// written, is deleted while still uncommitted, so the events left behind find it Missing and are abandoned.</para>
/// <para>Precondition: <c>messageId</c> is fresh (<see cref="MessageIds.New"/>), never a retry. The spool refuses a
/// reused id, but the Enqueued events written side by side would then refer to the other message's body. The edge
/// and DSN generation (Dsn/DsnRun.cs) pass a new id for every try.</para>
/// </summary>
/// <param name="buckets">Chooses the queue (bucket) of each recipient domain; the spool references the domain itself.</param>
/// <param name="metrics">Counts acceptance latency and failures (<see cref="QueueMetrics.Detached"/> when null).</param>
/// <param name="fence">Checked right before the commit (<see cref="IAcceptanceFence"/>); none: always open.</param>
public sealed partial class MessageAcceptor(
    ISpoolStore spool, IActorRef domainQueues, DomainBuckets buckets, QueueOptions options, TimeProvider clock, ILogger<MessageAcceptor> logger, QueueMetrics? metrics = null,
    IAcceptanceFence? fence = null)
    : IMessageAcceptor
{
    private readonly QueueMetrics _metrics = metrics ?? QueueMetrics.Detached;

    private static readonly Events.AcceptanceDetails NoDetails = new();

    /// <summary>This node's name in the delivery events (<see cref="Events.ReceptionDetails.Node"/>); null leaves it to the queue's node.</summary>
    public string? Node { get; init; }

    /// <summary>True when the delivery events are on (<see cref="Contracts.DeliveryEventDetails"/>): the reception's
    /// details go with each Enqueued. Off, they are not persisted.</summary>
    public bool RecordsEventDetails { get; init; }

    public Task<AcceptResult> AcceptAsync(string messageId, string sender, IReadOnlyList<string> recipients, DsnEnvelope? dsn, ReadOnlyMemory<byte> body, CancellationToken cancellationToken) =>
        AcceptAsync(messageId, sender, recipients, dsn, body, null, cancellationToken);

    public async Task<AcceptResult> AcceptAsync(
        string messageId, string sender, IReadOnlyList<string> recipients, DsnEnvelope? dsn, ReadOnlyMemory<byte> body, Events.AcceptanceDetails? details, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(recipients);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var byDomain = RecipientDomains.ByDomain(recipients);
        var queues = byDomain.Keys.Select(domain => buckets.KeyFor(domain, messageId)).ToList();
        var arrivedAt = clock.GetUtcNow();
        var timeout = TimeSpan.FromSeconds(options.EnqueueTimeoutSeconds);
        var commitBy = CommitBy(options);
        var steps = new List<Task>(byDomain.Count + 1);
        var reception = RecordsEventDetails ? (details ?? NoDetails).ToReception(messageId, body.Length, Node) : null;
        var writeAfterEvents = spool.WritesCommittedAtOnce(body.Length);
        try
        {
            if (!writeAfterEvents)
            {
                steps.Add(spool.WriteAsync(messageId, body, byDomain.Keys, cancellationToken));
            }

            foreach (var queue in queues)
            {
                var domainRecipients = byDomain[queue.Domain];
                steps.Add(EnqueueAsync(
                    new Enqueue(queue, messageId, sender, domainRecipients, arrivedAt, RecipientDomains.ForDomain(dsn, domainRecipients)) { Details = reception },
                    timeout,
                    cancellationToken));
            }

            await FirstFailureOrAllAsync(steps).ConfigureAwait(false);
            if (fence?.WhyClosed() is { } closed)
            {
                throw new InvalidOperationException(closed);
            }

            if (clock.GetUtcNow() - arrivedAt is var elapsed && elapsed >= commitBy)
            {
                throw new TimeoutException($"too late to commit: {elapsed.TotalSeconds:0.0} s after arrival, the commit grace allows {commitBy.TotalSeconds:0.0}");
            }

            if (writeAfterEvents)
            {
                var write = spool.WriteCommittedAsync(messageId, body, byDomain.Keys, cancellationToken);
                steps.Add(write); // a failure deletes the body if it was written uncommitted (DeleteWhenSettledAsync)
                await write.ConfigureAwait(false);
            }
            else
            {
                await spool.CommitAsync(messageId, cancellationToken).ConfigureAwait(false);
            }
        }
#pragma warning disable CA1031 // Any failure before the commit must become a 451, never a crash of the session.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LogFailed(logger, ex, messageId);
            _metrics.AcceptanceFailures.Inc();

            // The delete waits for every step, so that it queues behind the body write (same group-commit queue) and
            // finds the body if it was written; the client gets its 451 now (e.g. at once when the database is down,
            // not after the enqueue timeout).
            _ = DeleteWhenSettledAsync(steps, messageId);
            return new AcceptResult(AcceptOutcome.Failed, messageId, ex.Message);
        }

        if (clock.GetUtcNow() - arrivedAt is var late && late >= commitBy)
        {
            // Committed, but a queue may already have given the body up (it read it uncommitted after the grace): no
            // 250. The client sends it again; the queues that still hold this copy deliver it (a duplicate at worst).
            LogCommittedTooLate(logger, messageId, late.TotalSeconds);
            _metrics.AcceptanceFailures.Inc();
            return new AcceptResult(AcceptOutcome.Failed, messageId, "committed after the commit grace");
        }

        _metrics.AcceptanceDuration.Observe(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds);

        // The nudge lets each queue start the first attempt at once instead of after its hold.
        foreach (var queue in queues)
        {
            domainQueues.Tell(new MessageCommitted(queue, messageId));
        }

        LogAccepted(logger, messageId, sender, recipients.Count, body.Length);
        return new AcceptResult(AcceptOutcome.Accepted, messageId, null);
    }

#pragma warning disable CA1031 // Failures here were reported (451 + warning) already; the cleanup is best effort.
    private async Task DeleteWhenSettledAsync(List<Task> steps, string messageId)
    {
        try
        {
            await Task.WhenAll(steps).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Observed here; the first failure was logged by AcceptAsync.
        }

        try
        {
            await spool.DeleteUncommittedAsync(messageId, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // The body stays uncommitted: never delivered, its events are abandoned after the commit grace, and the orphan
            // sweep deletes it once no queue holds it (Sweep/OrphanSweep.cs).
        }
    }
#pragma warning restore CA1031

    /// <summary>
    /// How long after the arrival a commit may complete for the message to be answered 250: the commit grace, less a
    /// margin for the clocks of the accepting node and the queue's node (a quarter of the grace, at most 2 s).
    /// <para>Why: a domain queue that reads the body uncommitted (or not yet written) waits for the commit while the
    /// read began within <see cref="QueueOptions.CommitGraceSeconds"/> of the arrival, and abandons the message after
    /// that (<see cref="State.DeliveryScheduler.Finished"/>). A read that began after the grace sees every commit
    /// completed before it; so a commit completed inside the grace is never abandoned, and one completed later may be,
    /// and gets 451 instead of 250. Normally the enqueue timeout (30 s) ends an acceptance long before the grace
    /// (120 s); this bounds the rare one whose commit itself stalled, and a configuration with a grace below the
    /// timeout.</para>
    /// </summary>
    internal static TimeSpan CommitBy(QueueOptions options)
    {
        var grace = TimeSpan.FromSeconds(options.CommitGraceSeconds);
        var margin = grace / 4 < MaxClockMargin ? grace / 4 : MaxClockMargin;
        return grace - margin;
    }

    private static readonly TimeSpan MaxClockMargin = TimeSpan.FromSeconds(2);

    /// <summary>How long one ask of an Enqueue waits before it is asked again (within the whole enqueue timeout).</summary>
    internal static readonly TimeSpan EnqueueAskEvery = TimeSpan.FromSeconds(5);

    /// <summary>Asks the domain queue to persist the Enqueue, again every <see cref="EnqueueAskEvery"/> until
    /// <paramref name="timeout"/>: a shard region that hands a shard off while its node shuts down drops the messages it
    /// buffered for that shard (Akka: "Dropping buffered messages ... during hand off"), so an Enqueue can be lost
    /// without an answer (T112's rolling restart answered 451 after the whole 30 s). Asking again is safe: the queue
    /// applies an Enqueue once per message id and acknowledges every ask (DomainQueueState.Decide).</summary>
    private async Task EnqueueAsync(Enqueue command, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        while (true)
        {
            var left = timeout - System.Diagnostics.Stopwatch.GetElapsedTime(started);
            try
            {
                await domainQueues.Ask<EnqueueAck>(command, left < EnqueueAskEvery * 2 ? left : EnqueueAskEvery, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (AskTimeoutException) when (timeout - System.Diagnostics.Stopwatch.GetElapsedTime(started) > TimeSpan.FromMilliseconds(100))
            {
                LogEnqueueAskedAgain(logger, command.MessageId, command.Queue.EntityId);
            }
        }
    }

    /// <summary>Completes when every step succeeded; throws the first failure as soon as it happens.</summary>
    private static async Task FirstFailureOrAllAsync(List<Task> steps)
    {
        var pending = new List<Task>(steps);
        while (pending.Count > 0)
        {
            var done = await Task.WhenAny(pending).ConfigureAwait(false);
            await done.ConfigureAwait(false); // rethrows its failure
            pending.Remove(done);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Acceptance of {MessageId} committed {Seconds:0.0} s after its arrival, past the commit grace; answering 451")]
    private static partial void LogCommittedTooLate(ILogger logger, string messageId, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Acceptance of {MessageId} failed; answering 451")]
    private static partial void LogFailed(ILogger logger, Exception ex, string messageId);

    // Debug, not Information: one console line per message cost measurable CPU at thousands of messages per second;
    // the ops metrics count accepted mail, and the delivery outcome is logged per recipient.
    [LoggerMessage(Level = LogLevel.Information, Message = "Enqueue of {MessageId} to {Queue} unanswered; asking again")]
    private static partial void LogEnqueueAskedAgain(ILogger logger, string messageId, string queue);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Queued {MessageId} from <{Sender}> for {Recipients} recipients, {Size} bytes")]
    private static partial void LogAccepted(ILogger logger, string messageId, string sender, int recipients, int size);
}
