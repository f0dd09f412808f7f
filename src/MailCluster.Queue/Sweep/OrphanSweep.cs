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
/// finds every domain-queue entity that may hold each domain's mail (the domain, its configured buckets and any other
/// bucket of it running on any node, <see cref="QueueEntities"/>), asks them (through the shard region, wherever they
/// live) which of the ids they still hold, and releases the references of committed bodies no queue holds and deletes
/// uncommitted bodies no queue holds (<see cref="OrphanSweepPlan"/>), provided the previous run found them un-held too
/// (<see cref="SweepSuspects"/>). A queue that does not answer leaves its domain for the next run; so does a domain
/// whose bucket discovery is incomplete (a node or the shard coordinator did not answer).
/// <para>Why leftover buckets are asked: an operator who lowers a domain's bucket count leaves the mail already queued
/// in the buckets above the new count (remembered entities, they keep delivering); the configured buckets alone would
/// all say "not held" and the body of mail still queued would go. Why two runs: discovery sees only buckets that run,
/// and a bucket can be briefly not running (hand-off, rebalance, a node just restarted); a run later it runs again.</para>
/// <para>Why a "no" is final for a committed body once every entity was asked: the body is committed only after every
/// domain's queue persisted Enqueued, the queue answers from its recovered state, and a message leaves that state only
/// with its final event; so a queue that does not hold it is done with it. Ids are never reused, so nothing can queue
/// it again.</para>
/// <para>Releases and deletes are idempotent (a reference already gone, a body committed meanwhile: nothing happens),
/// so a run that overlaps another (a singleton hand-over) is harmless. Runs of one instance never overlap (the actor
/// waits for each); the suspects live in the instance, so a new sweeping node starts without any.</para>
/// </summary>
/// <param name="ask">Asks one domain-queue entity; throws (e.g. an ask timeout) when it does not answer.</param>
/// <param name="discover">The entities that may hold a domain's mail, cluster-wide (<see cref="QueueEntities.OfAsync"/>).</param>
public sealed partial class OrphanSweep(
    ISpoolInventory inventory,
    ISpoolStore spool,
    Func<FindHeldMessages, CancellationToken, Task<HeldMessages>> ask,
    Func<string, CancellationToken, Task<QueueEntitySet>> discover,
    OrphanSweepOptions options,
    QueueMetrics metrics,
    ILogger logger)
{
    /// <summary>Questions in flight at once (each to one entity, or one domain's discovery).</summary>
    private const int Parallelism = 4;

    /// <summary>Domains whose discovery one run remembers (a few entity ids each); past that, a domain is discovered
    /// again on every page it appears in.</summary>
    private const int MaxDomainsPerRun = 10_000;

    /// <summary>The next run's suspects: what the previous run found un-held. Replaced at the end of each run (runs
    /// never overlap).</summary>
    private SweepSuspects _suspects = new();

    /// <summary>Runs once over the whole spool; throws when the spool cannot be read (nothing is half-decided then:
    /// every release or delete already made stands on its own, and what was found un-held still waits for the next
    /// run).</summary>
    public async Task<SweepReport> RunAsync(CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var run = new SweepRun(_suspects);
        var report = new SweepReport { Carried = run.Suspects.Carried };
        try
        {
            await SweepAsync(committed: true, run, report, cancellationToken).ConfigureAwait(false);
            await SweepAsync(committed: false, run, report, cancellationToken).ConfigureAwait(false);
            if (spool is ISpoolFileSweep files)
            {
                // Body files no row names (a crash between a file's fsync and its row's commit, or between a row's
                // deletion and the file's): no queue can hold them, so the age alone decides.
                report.OrphanFiles = await files.SweepOrphanFilesAsync(TimeSpan.FromSeconds(options.MinAgeSeconds), cancellationToken).ConfigureAwait(false);
                if (report.OrphanFiles > 0)
                {
                    LogOrphanFiles(logger, report.OrphanFiles, options.MinAgeSeconds);
                }
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            metrics.SweepRuns(succeeded: false).Inc();
            LogFailed(logger, ex, report.Bodies, report.Released, report.Deleted);
            throw;
        }
        finally
        {
            _suspects = run.Suspects.Next();
            report.Suspects = _suspects.Carried;
            metrics.SweepSuspects.Set(report.Suspects);
        }

        metrics.SweepRuns(succeeded: true).Inc();
        metrics.SweepLastSuccess.SetToCurrentTimeUtc();
        var elapsed = Stopwatch.GetElapsedTime(started);
        if (report.Released > 0 || report.Deleted > 0 || report.Failed > 0 || report.Suspects > 0 || report.Carried > 0)
        {
            LogSwept(logger, report.Bodies, report.References, options.MinAgeSeconds, report.Released, report.Deleted, report.Carried, report.Suspects,
                run.Suspects.Overflowed, report.Held, report.Undecided, report.SilentQueues, report.Skipped, report.SkippedDomains, report.Failed, elapsed.TotalSeconds);
        }
        else
        {
            LogNothing(logger, report.Bodies, report.References, options.MinAgeSeconds, report.Held, report.Undecided, report.SilentQueues, report.Skipped,
                report.SkippedDomains, elapsed.TotalSeconds);
        }

        return report;
    }

    private async Task SweepAsync(bool committed, SweepRun run, SweepReport report, CancellationToken cancellationToken)
    {
        var minAge = TimeSpan.FromSeconds(options.MinAgeSeconds);
        SpoolAgeCursor? cursor = null;
        do
        {
            var page = committed
                ? await inventory.ListOldReferencesAsync(minAge, cursor, options.PageSize, cancellationToken).ConfigureAwait(false)
                : await inventory.ListOldUncommittedAsync(minAge, cursor, options.PageSize, cancellationToken).ConfigureAwait(false);
            var entities = await DiscoverAsync(page.Bodies, run, report, cancellationToken).ConfigureAwait(false);
            var answers = await AskAsync(OrphanSweepPlan.Questions(page.Bodies, entities), cancellationToken).ConfigureAwait(false);
            var decision = OrphanSweepPlan.Decide(page.Bodies, committed, answers, entities, run.Suspects);
            report.Bodies += page.Bodies.Count;
            report.References += page.Bodies.Sum(b => b.Domains.Count);
            report.Held += decision.Held;
            report.Undecided += decision.Undecided;
            report.Skipped += decision.Skipped;
            report.SilentQueues += answers.Silent.Count;
            metrics.SweepQueuesUnanswered.Inc(answers.Silent.Count);
            await ApplyAsync(decision, report).ConfigureAwait(false);
            cursor = page.Next;
        }
        while (cursor is not null);
    }

    /// <summary>The entities of each domain of the page whose discovery is complete; a domain whose discovery is not
    /// is left out (and stays out for the rest of the run: it is skipped, not retried page after page).</summary>
    private async Task<Dictionary<string, IReadOnlyList<string>>> DiscoverAsync(
        IReadOnlyList<AgedBody> bodies, SweepRun run, SweepReport report, CancellationToken cancellationToken)
    {
        var domains = bodies.SelectMany(b => b.Domains).Distinct(StringComparer.Ordinal).ToList();
        var unknown = domains.Where(d => !run.Discovered.ContainsKey(d)).ToList();
        var found = new Dictionary<string, IReadOnlyList<string>?>(StringComparer.Ordinal);
        var gate = new Lock();
        await Parallel.ForEachAsync(unknown, new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = cancellationToken }, async (domain, ct) =>
        {
            IReadOnlyList<string>? entities = null;
            try
            {
                var set = await discover(domain, ct).ConfigureAwait(false);
                if (set.Complete)
                {
                    entities = set.Entities;
                }
                else
                {
                    LogUndiscovered(logger, domain, string.Join(", ", set.Unanswered));
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                LogUndiscovered(logger, domain, ex.Message);
            }

            lock (gate)
            {
                found[domain] = entities;
            }
        }).ConfigureAwait(false);

        foreach (var (domain, entities) in found)
        {
            if (entities is null)
            {
                report.SkippedDomains++;
                metrics.SweepDomainsSkipped.Inc();
            }

            if (run.Discovered.Count < MaxDomainsPerRun)
            {
                run.Discovered[domain] = entities;
            }
        }

        var page = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (var domain in domains)
        {
            var entities = run.Discovered.TryGetValue(domain, out var known) ? known : found[domain];
            if (entities is not null)
            {
                page[domain] = entities;
            }
        }

        return page;
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
                LogSilent(logger, question.Queue.EntityId, question.MessageIds.Count, ex.Message);
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
        + "{Released} orphaned references released, {Deleted} orphaned uncommitted bodies deleted (of {Carried} suspects carried from the previous run), "
        + "{Suspects} suspects carried to the next run for confirmation ({Overflowed} more not kept), {Held} references still held by their queues, "
        + "{Undecided} left because {Silent} queues did not answer, {Skipped} left because the buckets of {SkippedDomains} domains could not all be found, "
        + "{Failed} releases or deletes failed ({Elapsed:0.0} s)")]
    private static partial void LogSwept(ILogger logger, int bodies, int references, int minAge, int released, int deleted, int carried, int suspects, int overflowed,
        int held, int undecided, int silent, int skipped, int skippedDomains, int failed, double elapsed);

    [LoggerMessage(EventId = 4201, Level = LogLevel.Debug, Message = "Spool sweep: {Bodies} bodies older than {MinAge} s with {References} references checked; "
        + "no orphans, {Held} references still held by their queues, {Undecided} left because {Silent} queues did not answer, "
        + "{Skipped} left because the buckets of {SkippedDomains} domains could not all be found ({Elapsed:0.0} s)")]
    private static partial void LogNothing(ILogger logger, int bodies, int references, int minAge, int held, int undecided, int silent, int skipped, int skippedDomains, double elapsed);

    [LoggerMessage(EventId = 4208, Level = LogLevel.Information, Message = "Spool sweep deleted {Count} orphaned body files older than {MinAge} s that no spool row names")]
    private static partial void LogOrphanFiles(ILogger logger, int count, int minAge);

    [LoggerMessage(EventId = 4207, Level = LogLevel.Warning, Message = "Spool sweep: the buckets of {Domain} could not all be found ({Unanswered} did not answer); "
        + "its references are left for the next run")]
    private static partial void LogUndiscovered(ILogger logger, string domain, string unanswered);

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

    /// <summary>References left because their domain's bucket discovery was incomplete.</summary>
    public int Skipped { get; set; }

    /// <summary>Domains whose bucket discovery was incomplete (each counted once per run).</summary>
    public int SkippedDomains { get; set; }

    /// <summary>Suspects this run started with (found un-held by the previous run).</summary>
    public int Carried { get; set; }

    /// <summary>Suspects this run leaves to the next (found un-held for the first time).</summary>
    public int Suspects { get; set; }

    /// <summary>Body files deleted because no spool row named them (<see cref="ISpoolFileSweep"/>).</summary>
    public int OrphanFiles { get; set; }
}

/// <summary>The state of one run: its suspects and the domains it has discovered (null: incomplete).</summary>
internal sealed class SweepRun(SweepSuspects suspects)
{
    public SweepSuspects Suspects { get; } = suspects;

    public Dictionary<string, IReadOnlyList<string>?> Discovered { get; } = new(StringComparer.Ordinal);
}
