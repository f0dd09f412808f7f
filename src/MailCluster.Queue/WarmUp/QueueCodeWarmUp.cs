using Akka.Actor;
using MailCluster.Queue.Delivery;
using MailCluster.Queue.Events;
using MailCluster.Queue.Protocol;
using MailCluster.Queue.Serialization;
using MailCluster.Queue.Spool;
using MailCluster.Queue.State;

namespace MailCluster.Queue.WarmUp;

/// <summary>
/// Runs a message's life through the domain queue's own code once, in memory, before the node's listeners open:
/// <see cref="DomainQueueCore{TReply}"/> (the group commit, a deferred attempt and its retry, a delivered one and the
/// release, the snapshot) and the serializer's write and read of each persisted event. Nothing is stored, sent or
/// logged: the core is pure and thrown away.
/// <para>Why: ReadyToRun cannot precompile generic code of the framework instantiated over this project's value types
/// (the due index's keys in an immutable sorted set, System.Text.Json's contracts of a DateTimeOffset or an enum
/// property), so a fresh node's first message compiled ~600 such methods while its first clients waited
/// (docs/BENCHMARKS.md, session s37: the first 250 after the dot took ~100 ms, the next ones a few).</para>
/// </summary>
/// <param name="system">The node's actor system, whose serializer writes and reads the events.</param>
public sealed class QueueCodeWarmUp(ActorSystem system) : ICodeWarmUp
{
    public void Run() => Run(system);

    /// <summary>Runs it; returns the number of events written and read back.</summary>
    public static int Run(ActorSystem system)
    {
        ArgumentNullException.ThrowIfNull(system);
        var t0 = DateTimeOffset.UtcNow;
        var retry = new RetryPolicy(new RetryOptions());
        var core = new DomainQueueCore<IActorRef>(
            DurablePathWarmUp.Domain, new DomainShaping(1, 100, null, TimeSpan.FromSeconds(5)), new QueueOptions { SnapshotEvery = 2 }, retry, () => 0.5, "warm-up");
        var events = new List<IQueueMessage>();

        var id = MessageIds.New();
        core.Add(
            new Enqueue(DurablePathWarmUp.Domain, id, "start@" + DurablePathWarmUp.Domain, ["node@" + DurablePathWarmUp.Domain], t0)
            {
                Details = new ReceptionDetails(id, "<warm-up@warm-up.invalid>", 1200, null, null, "warm-up.invalid", "127.0.0.1", null, null, null),
            },
            ActorRefs.Nobody);
        Write(core, events, t0);
        core.Committed(id);

        // A deferred attempt (its retry scheduled), then a delivered one (the body released, the queue empty).
        Attempt(core, events, id, new RecipientOutcome("node@" + DurablePathWarmUp.Domain, OutcomeKind.Transient, 451, "4.4.1", "warm-up"), t0);
        var retryAt = core.State.Messages.TryGetValue(id, out var queued) ? queued.NextAttemptAt : t0;
        Attempt(core, events, id, new RecipientOutcome("node@" + DurablePathWarmUp.Domain, OutcomeKind.Delivered, 250, "2.0.0", "warm-up"), retryAt);
        events.Add(core.State.ToSnapshot());
        DomainQueueState.FromSnapshot(core.State.ToSnapshot());

        // Through the system's lookup, as the journal serializes; the queue serializer itself where the system does not
        // bind it (an actor system of tests: Akka's default serializer cannot read these records back).
        var serialization = system.Serialization;
        foreach (var e in events)
        {
            var serializer = serialization.FindSerializerFor(e) as QueueSerializer ?? new QueueSerializer((ExtendedActorSystem)system);
            serializer.FromBinary(serializer.ToBinary(e), serializer.Manifest(e));
        }

        return events.Count;
    }

    private static void Attempt(DomainQueueCore<IActorRef> core, List<IQueueMessage> events, string id, RecipientOutcome outcome, DateTimeOffset at)
    {
        var (step, _) = core.Next(at, null);
        var connection = step.Starts.Count > 0 ? DeliveryScheduler.ConnectionName(step.Starts[0].Connection) : DeliveryScheduler.ConnectionName(1);
        var result = new DeliveryResult([outcome], "mx.warm-up.invalid", "TLSv1.3") { Relay = "mx.warm-up.invalid[127.0.0.1]:25", TlsCipher = "TLS_AES_256_GCM_SHA384" };
        core.Finished(connection, new DeliveryFinished(id, SpoolStatus.Committed, result, null, Closing: false), at);
        Write(core, events, at);
    }

    private static void Write(DomainQueueCore<IActorRef> core, List<IQueueMessage> events, DateTimeOffset at)
    {
        if (core.StartWrite() is not { } batch)
        {
            return;
        }

        foreach (var e in batch.Events)
        {
            events.Add(e);
            if (core.Apply(e, at).Snapshot)
            {
                core.SnapshotDone();
            }
        }

        _ = core.Written(batch).ToList();
    }
}
