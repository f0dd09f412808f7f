using Akka.Actor;
using Akka.Event;
using MailCluster.Queue.Protocol;
using MailCluster.Queue.State;

namespace MailCluster.Queue;

/// <summary>The journal side of the queue: group commit (<see cref="GroupCommit{TReply}"/> decides what goes into each
/// write), applying what was persisted to both records, releasing bodies and snapshotting.</summary>
public sealed partial class DomainQueueActor
{
    private GroupCommit<IActorRef> _writes = GroupCommit<IActorRef>.Empty;
    private int _eventsSinceSnapshot;
    private bool _snapshotting;

    private void FlushWrites()
    {
        var outcomes = _writes.Outcomes;
        (_writes, var batch) = _writes.Start(_state, _snapshotting, _services.Retry, Random.Shared.NextDouble);
        if (batch is not null)
        {
            _scheduler = _scheduler.Settled(batch.NothingToRecord);
            PersistAllAsync(Annotated(batch, outcomes), Applied); // the write's completion runs AfterChange once for the batch
            DeferAsync(batch.Acknowledge, done =>
            {
                _writes = _writes.Written();
                foreach (var (command, replyTo) in done)
                {
                    replyTo.Tell(new EnqueueAck(command.Queue.EntityId, command.MessageId));
                }

                AfterChange();
                FlushWrites();
            });
        }
    }

    /// <summary>Persists one decided event, applies it, then runs <paramref name="then"/> (log, reply) and the next step.</summary>
    private void PersistThen<TEvent>(TEvent decided, Action<TEvent> then)
        where TEvent : class, IQueueMessage => Persist(decided, e =>
        {
            Applied(e);
            then(e);
            AfterChange();
        });

    /// <summary>Applies a persisted event to the state and the scheduler. The body of a message the queue no longer holds
    /// is released without waiting (a failed release is retried by the node's <see cref="Spool.SpoolReleaser"/>).
    /// Snapshots at the state's cadence (<see cref="DomainQueueState.SnapshotDue"/>).</summary>
    private void Applied(IQueueMessage e)
    {
        if (e is AttemptCompleted attempt)
        {
            // Before Apply: a message whose last recipient is done leaves the state, and the attempt counts change.
            DeliveryLog.Attempt(_services.MailLog, attempt, _state.Messages.GetValueOrDefault(attempt.MessageId), _services.Classification);
        }

        _state = _state.Apply(e);
        _scheduler = _scheduler.Applied(e, Now);
        if (DomainQueueState.MessageOf(e) is { } messageId && !_state.Messages.ContainsKey(messageId))
        {
            _ = _services.Releaser.Release(messageId, _key.Domain, _log);
        }

        if (_state.SnapshotDue(++_eventsSinceSnapshot, _services.Options.SnapshotEvery) && !_snapshotting)
        {
            (_eventsSinceSnapshot, _snapshotting) = (0, true);
            SaveSnapshot(_state.ToSnapshot());

            // Liveness: a snapshot store that never answers must not hold the queue's writes for ever.
            Timers.StartSingleTimer(SnapshotTimer, new SnapshotTimeout(), TimeSpan.FromSeconds(5));
        }
    }

    private void SnapshotDone(Exception? failure)
    {
        if (failure is not null)
        {
            _log.Warning(failure, "Saving a snapshot of {0}, or deleting older ones, failed", PersistenceId);
        }

        Timers.Cancel(SnapshotTimer);
        _snapshotting = false;
        FlushWrites();
    }
}
