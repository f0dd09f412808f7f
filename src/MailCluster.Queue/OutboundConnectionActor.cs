using Akka.Actor;
using Akka.Event;
using MailCluster.Queue.Delivery;
using MailCluster.Queue.Spool;
using MailCluster.Queue.State;

namespace MailCluster.Queue;

/// <summary>Parent → connection: deliver these due recipients of this message (not persisted, local only).</summary>
internal sealed record SendMessage(QueuedMessage Message, IReadOnlyList<string> Recipients);

/// <summary>Connection → parent: the outcome of one <see cref="SendMessage"/> (local only, never persisted).</summary>
/// <param name="ConnectFailure">Set when the connection could not be opened (the outcomes are the failure's).</param>
/// <param name="Closing">The connection stops after this; give it no more work.</param>
/// <param name="ReadAt">With a body found not committed: when the spool read began. The commit grace is measured to
/// it, not to when the queue handles this outcome (see <see cref="State.DeliveryScheduler.Finished"/>).</param>
internal sealed record DeliveryFinished(string MessageId, SpoolStatus Spool, DeliveryResult? Result, Exception? Error,
    ConnectFailure? ConnectFailure = null, bool Closing = true, DateTimeOffset? ReadAt = null);

/// <summary>
/// One outbound connection of a domain queue (a child of the DomainQueue, DESIGN "Outbound actors"): it opens on its
/// first message, delivers one message at a time as the parent sends them, and closes (QUIT) after the configured
/// number of messages, after an idle timeout, when the peer breaks the connection, or when the parent stops.
/// All I/O runs off the actor thread and comes back as messages.
/// <para>A connection may wait long to open (the node-wide slots of its destination, <see cref="GatedConnector"/>):
/// stopping cancels that wait, and a connection that opens as the actor stops is closed, never left holding a slot.</para>
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification =
    "_stopped is cancelled in PostStop and never disposed: it has no timer, and I/O still running may read its token.")]
internal sealed class OutboundConnectionActor : ReceiveActor, IWithTimers
{
    private const string IdleTimer = "idle";
    private readonly QueueServices _services;
    private readonly string _domain;
    private readonly DomainShaping _shaping;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly CancellationTokenSource _stopped = new();
    private readonly OwnedConnection _owned = new();
    private IDeliveryConnection? _connection;
    private int _sent;

    public OutboundConnectionActor(QueueServices services, string domain, DomainShaping shaping)
    {
        _services = services;
        _domain = domain;
        _shaping = shaping;
        Receive<SendMessage>(m => RunAsync(m).PipeTo(Self));
        Receive<Opened>(o => _connection = o.Connection);
        Receive<DeliveryFinished>(OnFinished);
        Receive<IdleTimeout>(_ => Context.Stop(Self));
        Receive<Closed>(c =>
        {
            Context.Parent.Tell(c.Report);
            Context.Stop(Self);
        });
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(QueueServices services, string domain, DomainShaping shaping) =>
        Akka.Actor.Props.Create(() => new OutboundConnectionActor(services, domain, shaping));

    private void OnFinished(DeliveryFinished finished)
    {
        _sent++;
        bool closing = _connection is not { IsUsable: true } || _sent >= _shaping.MessagesPerConnection;
        if (closing)
        {
            // Close (QUIT) first, then report: the parent counts this connection against the destination's cap until
            // it hears Closing, so the peer never sees more connections at once than the cap, however fast the
            // parent hands out the next message.
            _connection = null;
            CloseAsync(_owned.Take()).PipeTo(Self, success: () => new Closed(finished with { Closing = true }));
            return;
        }

        Context.Parent.Tell(finished with { Closing = false });
        Timers.StartSingleTimer(IdleTimer, IdleTimeout.Instance, _shaping.IdleTimeout);
    }

    private async Task CloseAsync(IDeliveryConnection? connection)
    {
        if (connection is null)
        {
            return;
        }

        _services.Metrics.OutboundConnectionsOpen.Dec();
        try
        {
            await connection.DisposeAsync().ConfigureAwait(false);
        }
#pragma warning disable CA1031 // A failed QUIT changes nothing for the message; the report must still go out.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            _log.Debug("Closing a connection failed: {0}", ex.GetBaseException().Message);
        }
    }

    private async Task<object> RunAsync(SendMessage job)
    {
        Timers.Cancel(IdleTimer);
        var self = Self; // Self is not available after an await (no actor context there).
        var stopped = _stopped.Token;
        var message = job.Message;
        try
        {
            var readAt = _services.Clock.GetUtcNow();
            var entry = await _services.Spool.ReadAsync(message.MessageId, CancellationToken.None).ConfigureAwait(false);
            if (entry.Status != SpoolStatus.Committed)
            {
                return new DeliveryFinished(message.MessageId, entry.Status, null, null, ReadAt: readAt);
            }

            var connection = _connection;
            if (connection is null)
            {
                var connect = await _services.Connector.ConnectAsync(_domain, stopped).ConfigureAwait(false);
                if (connect.Connection is null)
                {
                    var f = connect.Failure!;
                    var failed = DeliveryResult.ConnectFailed(f, job.Recipients);
                    _services.Metrics.OnAttempt(failed, message.ArrivedAt, _services.Clock.GetUtcNow());
                    return new DeliveryFinished(message.MessageId, SpoolStatus.Committed, failed, null, f);
                }

                connection = connect.Connection;
                _services.Metrics.OutboundConnectionsOpen.Inc(); // decremented where the connection is disposed
                if (!_owned.Adopt(connection))
                {
                    await CloseAsync(connection).ConfigureAwait(false); // stopped meanwhile: nobody else would close it
                    return new DeliveryFinished(message.MessageId, SpoolStatus.Committed, null, new OperationCanceledException("stopped"));
                }

                self.Tell(new Opened(connection)); // Processed before the DeliveryFinished piped below.
            }

            var request = new DeliveryRequest(_domain, message.MessageId, message.Sender, job.Recipients, entry.Body, message.Dsn);
            var result = await connection.SendAsync(request, CancellationToken.None).ConfigureAwait(false);
            _services.Metrics.OnAttempt(result, message.ArrivedAt, _services.Clock.GetUtcNow());
            return new DeliveryFinished(message.MessageId, SpoolStatus.Committed, result, null);
        }
        catch (OperationCanceledException ex) when (stopped.IsCancellationRequested)
        {
            return new DeliveryFinished(message.MessageId, SpoolStatus.Committed, null, ex); // stopped while waiting: no attempt
        }
#pragma warning disable CA1031 // The connector contract is not to throw; anything that does is retried, not allowed to kill the entity.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            _services.Metrics.Attempts(OutcomeKind.Transient).Inc(job.Recipients.Count); // the queue retries the run
            return new DeliveryFinished(message.MessageId, SpoolStatus.Committed, null, ex);
        }
    }

    protected override void PostStop()
    {
        _stopped.Cancel(); // a wait for a destination slot ends; not disposed: the I/O may still read its token
        if (_owned.End() is { } connection)
        {
            _services.Metrics.OutboundConnectionsOpen.Dec();
            var log = _log;
            _ = connection.DisposeAsync().AsTask().ContinueWith(
                t => log.Debug("Closing a connection failed: {0}", t.Exception?.GetBaseException().Message),
                CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        }
    }

    private sealed record Opened(IDeliveryConnection Connection);

    /// <summary>The open connection, handed over between the I/O that opens it (off the actor thread) and the actor's
    /// stop: whichever comes second closes it, so a connection (and its destination slot) is never orphaned.</summary>
    private sealed class OwnedConnection
    {
        private readonly Lock _lock = new();
        private IDeliveryConnection? _connection;
        private bool _ended;

        /// <summary>Takes ownership; false when the actor has stopped (the caller closes the connection).</summary>
        public bool Adopt(IDeliveryConnection connection)
        {
            lock (_lock)
            {
                _connection = _ended ? null : connection;
                return !_ended;
            }
        }

        /// <summary>The connection, no longer owned here (the caller closes it).</summary>
        public IDeliveryConnection? Take()
        {
            lock (_lock)
            {
                var connection = _connection;
                _connection = null;
                return connection;
            }
        }

        /// <summary>The actor stops: nothing can be adopted any more; returns what the caller must close.</summary>
        public IDeliveryConnection? End()
        {
            lock (_lock)
            {
                _ended = true;
                return Take();
            }
        }
    }

    private sealed record Closed(DeliveryFinished Report);

    private sealed class IdleTimeout
    {
        public static readonly IdleTimeout Instance = new();
    }
}
