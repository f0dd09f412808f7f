using System.Diagnostics;
using MailCluster.Queue.Buckets;
using MailCluster.Queue.Protocol;
using MailCluster.Queue.Spool;
using Microsoft.Extensions.Logging;
using Prometheus;

namespace MailCluster.Queue.Sweep;

/// <summary>
/// One run of the orphan spool sweep. The spool and the domain queues' journal are two stores: a body's reference is
/// dropped by its queue after the queue persisted the message's final outcome, in memory and with retries
/// (<see cref="SpoolReleaser"/>), so a node that dies in between leaves the reference, and the body, for ever.
/// The sweep reconciles them: it pages through bodies older than <see cref="OrphanSweepOptions.MinAgeSeconds"/>,
/// asks each domain's queue entities (through the shard region, wherever they live) which of the ids they still hold,
/// releases the references of committed bodies no queue holds, and deletes uncommitted bodies no queue holds
/// (<see cref="OrphanSweepPlan"/>). A queue that does not answer leaves its domain for the next run.
/// <para>Why a "no" is final for a committed body: the body is committed only after every domain's queue persisted
/// Enqueued, the queue answers from its recovered state, and a message leaves that state only with its final event;
/// so a queue that does not hold it is done with it. Ids are never reused, so nothing can queue it again.</para>
/// <para>Releases and deletes are idempotent (a reference already gone, a body committed meanwhile: nothing happens),
/// so a run that overlaps another (a singleton hand-over) is harmless.</para>
/// </summary>
/// <param name="ask">Asks one domain-queue entity; throws (e.g. an ask timeout) when it does not answer.</param>
public sealed partial class OrphanSweep(
    ISpoolInventory inventory,
    ISpoolStore spool,
    Func<FindHeldMessages, CancellationToken, Task<HeldMessages>> ask,
    DomainBuckets buckets,
    OrphanSweepOptions options,
    QueueMetrics metrics,
    ILogger logger)
{
    /// <summary>Questions in flight at once (each to one entity).</summary>
    private const int Parallelism = 4;

    /// <summary>Runs once over the whole spool; throws when the spool cannot be read (nothing is half-decided then:
    /// every release or delete already made stands on its own).</summary>
    public async Task<SweepReport> RunAsync(CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var report = new SweepReport();
        try
        {
            await SweepAsync(committed: true, report, cancellationToken).ConfigureAwait(false);
            await SweepAsync(committed: false, report, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            metrics.SweepRuns(succeeded: false).Inc();
            LogFailed(logger, ex, report.Bodies, report.Released, report.Deleted);
            throw;
        }

        metrics.SweepRuns(succeeded: true).Inc();
        metrics.SweepLastSuccess.SetToCurrentTimeUtc();
        var elapsed = Stopwatch.GetElapsedTime(started);
        if (report.Released > 0 || report.Deleted > 0 || report.Failed > 0)
        {
            LogSwept(logger, report.Bodies, report.References, options.MinAgeSeconds, report.Released, report.Deleted, report.Held, report.Undecided,
                report.SilentQueues, report.Failed, elapsed.TotalSeconds);
        }
        else
        {
            LogNothing(logger, report.Bodies, report.References, options.MinAgeSeconds, report.Held, report.Undecided, report.SilentQueues, elapsed.TotalSeconds);
        }

        return report;
    }

    private async Task SweepAsync(bool committed, SweepReport report, CancellationToken cancellationToken)
    {
        var minAge = TimeSpan.FromSeconds(options.MinAgeSeconds);
        SpoolAgeCursor? cursor = null;
        do
        {
            var page = committed
                ? await inventory.ListOldReferencesAsync(minAge, cursor, options.PageSize, cancellationToken).ConfigureAwait(false)
                : await inventory.ListOldUncommittedAsync(minAge, cursor, options.PageSize, cancellationToken).ConfigureAwait(false);
            var answers = await AskAsync(OrphanSweepPlan.Questions(page.Bodies, buckets), cancellationToken).ConfigureAwait(false);
            var decision = OrphanSweepPlan.Decide(page.Bodies, committed, answers, buckets);
            report.Bodies += page.Bodies.Count;
            report.References += page.Bodies.Sum(b => b.Domains.Count);
            report.Held += decision.Held;
            report.Undecided += decision.Undecided;
            report.SilentQueues += answers.Silent.Count;
            metrics.SweepQueuesUnanswered.Inc(answers.Silent.Count);
            await ApplyAsync(decision, report).ConfigureAwait(false);
            cursor = page.Next;
        }
        while (cursor is not null);
    }

    private async Task<SweepAnswers> AskAsync(IReadOnlyList<FindHeldMessages> questions, CancellationToken cancellationToken)
    {
        var answers = new SweepAnswers();
        var gate = new Lock();
        await Parallel.ForEachAsync(questions, new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = cancellationToken }, async (question, ct) =>
        {
            HeldMessages? answer = null;
            try
            {
                answer = await ask(question, ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                LogSilent(logger, question.Domain, question.MessageIds.Count, ex.Message);
            }

            lock (gate)
            {
                answers.Record(question, answer);
            }
        }).ConfigureAwait(false);
        return answers;
    }

    /// <summary>Applies a page's decision. Each call is awaited with the others of the page (the spool batches them
    /// into few transactions); a failure is counted and left for the next run.</summary>
    private async Task ApplyAsync(SweepDecision decision, SweepReport report)
    {
        // Not cancelled with the run: a release the spool has queued is applied anyway, so wait for it to be counted.
        var releases = decision.Release.Select(r => Try(
            spool.ReleaseAsync(r.MessageId, r.Domain, CancellationToken.None), r.MessageId, () => LogReleased(logger, r.MessageId, r.Domain)));
        var deletes = decision.Delete.Select(id => Try(
            spool.DeleteUncommittedAsync(id, CancellationToken.None), id, () => LogDeleted(logger, id)));
        var released = await Task.WhenAll(releases).ConfigureAwait(false);
        var deleted = await Task.WhenAll(deletes).ConfigureAwait(false);
        int releasedCount = released.Count(ok => ok), deletedCount = deleted.Count(ok => ok);
        report.Released += releasedCount;
        report.Deleted += deletedCount;
        report.Failed += released.Length - releasedCount + deleted.Length - deletedCount;
        metrics.SweepReferencesReleased.Inc(releasedCount);
        metrics.SweepBodiesDeleted.Inc(deletedCount);
    }

    private async Task<bool> Try(Task call, string messageId, Action done)
    {
        try
        {
            await call.ConfigureAwait(false);
            done();
            return true;
        }
#pragma warning disable CA1031 // Any spool failure leaves the orphan for the next run; the run carries on.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LogApplyFailed(logger, ex, messageId);
            return false;
        }
    }

    [LoggerMessage(EventId = 4200, Level = LogLevel.Information, Message = "Spool sweep: {Bodies} bodies older than {MinAge} s with {References} references checked; "
        + "{Released} orphaned references released, {Deleted} orphaned uncommitted bodies deleted, {Held} references still held by their queues, "
        + "{Undecided} left because {Silent} queues did not answer, {Failed} releases or deletes failed ({Elapsed:0.0} s)")]
    private static partial void LogSwept(ILogger logger, int bodies, int references, int minAge, int released, int deleted, int held, int undecided, int silent, int failed, double elapsed);

    [LoggerMessage(EventId = 4201, Level = LogLevel.Debug, Message = "Spool sweep: {Bodies} bodies older than {MinAge} s with {References} references checked; "
        + "no orphans, {Held} references still held by their queues, {Undecided} left because {Silent} queues did not answer ({Elapsed:0.0} s)")]
    private static partial void LogNothing(ILogger logger, int bodies, int references, int minAge, int held, int undecided, int silent, double elapsed);

    [LoggerMessage(EventId = 4202, Level = LogLevel.Warning, Message = "Spool sweep failed after {Bodies} bodies ({Released} references released, {Deleted} bodies deleted); the next run starts over")]
    private static partial void LogFailed(ILogger logger, Exception exception, int bodies, int released, int deleted);

    [LoggerMessage(EventId = 4203, Level = LogLevel.Warning, Message = "Spool sweep: domain queue {Entity} did not answer about {Count} messages ({Reason}); its references are left for the next run")]
    private static partial void LogSilent(ILogger logger, string entity, int count, string reason);

    [LoggerMessage(EventId = 4204, Level = LogLevel.Debug, Message = "Spool sweep released orphaned reference {MessageId} of {Domain}")]
    private static partial void LogReleased(ILogger logger, string messageId, string domain);

    [LoggerMessage(EventId = 4205, Level = LogLevel.Debug, Message = "Spool sweep deleted orphaned uncommitted body {MessageId}")]
    private static partial void LogDeleted(ILogger logger, string messageId);

    [LoggerMessage(EventId = 4206, Level = LogLevel.Warning, Message = "Spool sweep could not release or delete {MessageId}; left for the next run")]
    private static partial void LogApplyFailed(ILogger logger, Exception exception, string messageId);
}

/// <summary>What one run found and did.</summary>
public sealed class SweepReport
{
    public int Bodies { get; set; }

    public int References { get; set; }

    public int Released { get; set; }

    public int Deleted { get; set; }

    public int Held { get; set; }

    public int Undecided { get; set; }

    /// <summary>Entities that did not answer, counted per page.</summary>
    public int SilentQueues { get; set; }

    public int Failed { get; set; }
}
