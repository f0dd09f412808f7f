using System.Diagnostics;
using Akka.Actor;
using MailCluster.Queue.Spool;

namespace MailCluster.Queue.WarmUp;

/// <summary>What the durable path's warm-up did: milliseconds per store (null when that store was not warmed), and
/// the milliseconds of the in-memory code (the <see cref="ICodeWarmUp"/>s; null when there were none).</summary>
public sealed record DurablePathWarmUpResult(long? JournalMs, long? SpoolMs, long? CodeMs = null);

/// <summary>
/// Exercises the stores a message's acceptance writes to, once, before the node's listeners open: the journal and
/// snapshot store (<see cref="JournalWarmUpActor"/>, on delivery nodes) and the spool (on edge nodes: a body of a
/// reserved domain written as the acceptance writes one on this store, then removed), and the in-memory code of the
/// first messages (the <see cref="ICodeWarmUp"/>s: on delivery nodes the domain queue's, <see cref="QueueCodeWarmUp"/>,
/// and the features' own). Nothing stays stored and nothing is delivered. The stores and the code run at once.
/// </summary>
public static class DurablePathWarmUp
{
    /// <summary>The reserved domain (RFC 2606 ".invalid") the spool's warm-up body names.</summary>
    public const string Domain = "warm-up.invalid";

    public static async Task<DurablePathWarmUpResult> RunAsync(
        ActorSystem? journalSystem, ISpoolStore? spool, CancellationToken cancellationToken, IReadOnlyList<ICodeWarmUp>? code = null)
    {
        var journal = journalSystem is null ? Task.FromResult<long?>(null) : TimedAsync(() => JournalAsync(journalSystem, cancellationToken));
        var body = spool is null ? Task.FromResult<long?>(null) : TimedAsync(() => SpoolAsync(spool, cancellationToken));
        var inMemory = code is not { Count: > 0 }
            ? Task.FromResult<long?>(null)
            : TimedAsync(() => Task.Run(
                () =>
                {
                    foreach (var warmUp in code)
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        warmUp.Run();
                    }
                },
                cancellationToken));
        await Task.WhenAll(journal, body, inMemory).ConfigureAwait(false);
        return new DurablePathWarmUpResult(await journal.ConfigureAwait(false), await body.ConfigureAwait(false), await inMemory.ConfigureAwait(false));
    }

    private static async Task<long?> TimedAsync(Func<Task> run)
    {
        var clock = Stopwatch.StartNew();
        await run().ConfigureAwait(false);
        return clock.ElapsedMilliseconds;
    }

    private static async Task JournalAsync(ActorSystem system, CancellationToken cancellationToken)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var actor = system.ActorOf(JournalWarmUpActor.Props(done), "journal-warm-up");
        try
        {
            await done.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            system.Stop(actor); // already stopped when it finished; stops it on a failure or a timeout
        }
    }

    private static async Task SpoolAsync(ISpoolStore spool, CancellationToken cancellationToken)
    {
        // The storage feature creates the schema in the background at start; the warm-up may come first (idempotent).
        await spool.InitializeAsync(cancellationToken).ConfigureAwait(false);
        var id = MessageIds.New();
        var body = "Subject: warm-up\r\n\r\nwarm-up\r\n"u8.ToArray();
        try
        {
            if (spool.WritesCommittedAtOnce(body.Length))
            {
                // The acceptance's one transaction on this store (MessageAcceptor), then the release a queue makes once
                // the message is done, which deletes the body (no domain holds it any more).
                await spool.WriteCommittedAsync(id, body, [Domain], cancellationToken).ConfigureAwait(false);
                await spool.ReleaseAsync(id, Domain, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await spool.WriteAsync(id, body, [Domain], cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            // Not deleted when cancelled (the start's limit): the orphan sweep removes the body later (an uncommitted
            // one, or a committed one's reference, which no queue of the reserved domain holds).
            await spool.DeleteUncommittedAsync(id, cancellationToken).ConfigureAwait(false);
        }
    }
}
