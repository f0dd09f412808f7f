using MailCluster.Queue.Delivery;
using MailCluster.Queue.Events;
using MailCluster.Queue.Protocol;
using MailCluster.Queue.Spool;
using MailCluster.Queue.State;

namespace MailCluster.Queue.Tests.Allocation;

/// <summary>
/// Allocation per message on the domain queue's hot path, measured deterministically (issue 13, the A/B CPU gap): drives
/// the pure records exactly as the queue's actor does for one message in steady state (Enqueue → Apply → Next →
/// Finished → write and Apply of the attempt → Settled) and counts the bytes the current thread allocates in each step
/// (<see cref="GC.GetAllocatedBytesForCurrentThread"/>). Not a timed test: the figures do not depend on the machine's
/// load. What the actor's neighbours allocate (the command and the outcome, built by the session and the connection)
/// is made outside the measured steps. <paramref name="resident"/> messages sit on an operator's hold meanwhile, so the
/// maps have a realistic size.
/// </summary>
internal static class QueueAllocationProbe
{
    public static readonly string[] Steps = ["enqueue", "apply-enqueued", "next", "finished", "write-apply-attempt", "settled"];

    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    /// <returns>Bytes per message of each of <see cref="Steps"/>, and the state at the end (for the caller to check that
    /// every message went through).</returns>
    public static (double[] BytesPerMessage, DomainQueueState End) Run(int messages, int resident, int warmUp = 1000)
    {
        var retry = new RetryPolicy(new RetryOptions { Jitter = 0 });
        var options = new QueueOptions();
        Func<double> random = () => 0.5;
        var state = DomainQueueState.Empty("example.com");
        var scheduler = new DeliveryScheduler(new DomainShaping(10, 100, null, TimeSpan.FromSeconds(5)), options, retry);
        var writes = GroupCommit<object>.Empty;
        var session = new object();
        for (int i = 0; i < resident; i++)
        {
            state = state.Apply(new Enqueued("example.com", $"R{i}", "s@sender.test", ["held@example.com"], T0));
            state = state.Apply(new MessageOnHold($"R{i}", T0));
        }

        var bytes = new long[Steps.Length];
        var now = T0;
        for (int i = 0; i < warmUp + messages; i++)
        {
            if (i == warmUp)
            {
                Array.Clear(bytes);
            }

            now = now.AddMilliseconds(10);
            string id = $"M{i:D8}";
            var command = new Enqueue("example.com", id, "s@sender.test", [$"a{i}@example.com"], now)
            {
                Details = new ReceptionDetails(id, $"<{id}@sender.test>", 2048, null, null, "client.test", "127.0.0.1", "TLSv1.3", "TLS_AES_256_GCM_SHA384", null),
            };
            var result = new DeliveryResult([new RecipientOutcome($"a{i}@example.com", OutcomeKind.Delivered, 250, "2.0.0", "ok")], "mx.example.com", "TLSv1.3");

            long mark = GC.GetAllocatedBytesForCurrentThread();
            writes = writes.Add(command, session);
            var outcomes = writes.Outcomes;
            (writes, var batch) = writes.Start(state, false, retry, random);
            scheduler = scheduler.Settled(batch!.NothingToRecord);
            var events = EventAnnotation.Annotate(batch.Events, batch.Acknowledge, outcomes, "node:1");
            mark = Count(bytes, 0, mark);

            foreach (var e in events)
            {
                state = state.Apply(e);
                scheduler = scheduler.Applied(e, now);
            }

            writes = writes.Written();
            foreach (var (enqueue, replyTo) in batch.Acknowledge)
            {
                GC.KeepAlive((replyTo, new EnqueueAck(enqueue.Queue.EntityId, enqueue.MessageId)));
            }

            (scheduler, _) = scheduler.Next(state, writes.Pending, now);
            mark = Count(bytes, 1, mark);

            scheduler = scheduler.Committed(id);
            (scheduler, var step) = scheduler.Next(state, writes.Pending, now);
            var start = step.Starts.Single(s => s.Message.MessageId == id);
            mark = Count(bytes, 2, mark);

            var finished = new DeliveryFinished(id, SpoolStatus.Committed, result, null, Closing: false);
            mark = GC.GetAllocatedBytesForCurrentThread();
            (scheduler, var decision) = scheduler.Finished(state, start.Connection, finished, now);
            writes = writes.Add(((RecordOutcome)decision).MessageId, result, now);
            mark = Count(bytes, 3, mark);

            outcomes = writes.Outcomes;
            (writes, batch) = writes.Start(state, false, retry, random);
            scheduler = scheduler.Settled(batch!.NothingToRecord);
            foreach (var e in EventAnnotation.Annotate(batch.Events, batch.Acknowledge, outcomes, "node:1"))
            {
                state = state.Apply(e);
                scheduler = scheduler.Applied(e, now);
            }

            mark = Count(bytes, 4, mark);
            writes = writes.Written();
            (scheduler, _) = scheduler.Next(state, writes.Pending, now);
            Count(bytes, 5, mark);
        }

        return ([.. bytes.Select(b => (double)b / messages)], state);
    }

    private static long Count(long[] bytes, int step, long mark)
    {
        long now = GC.GetAllocatedBytesForCurrentThread();
        bytes[step] += now - mark;
        return GC.GetAllocatedBytesForCurrentThread();
    }
}
