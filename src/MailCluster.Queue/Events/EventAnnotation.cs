using MailCluster.Queue.Delivery;
using MailCluster.Queue.Protocol;

namespace MailCluster.Queue.Events;

/// <summary>
/// Pure: gives the events of one group-commit write the delivery-event details they record (issue 16). Each
/// <see cref="Enqueued"/> whose command carried <see cref="Enqueue.Details"/> gets them as its
/// <see cref="Enqueued.Details"/>; each <see cref="AttemptCompleted"/> decided from a delivery result gets its
/// <see cref="AttemptDetails"/>. The details are part of the row they describe (manifests <c>.v2</c>), so a write has
/// one journal row per event as before the events feature, and an outcome is never persisted without them. Everything
/// else, and the order of the queue's own events, is unchanged. (Releases before this one wrote the details as rows of
/// their own just before the event; the projection still reads those.)
/// </summary>
public static class EventAnnotation
{
    public static IReadOnlyList<IQueueMessage> Annotate<TReply>(
        IReadOnlyList<IQueueMessage> events,
        IEnumerable<(Enqueue Command, TReply ReplyTo)> enqueues,
        IEnumerable<(string MessageId, DeliveryResult Result, DateTimeOffset At)> outcomes,
        string? node)
    {
        ArgumentNullException.ThrowIfNull(events);
        var details = default(ByMessage<ReceptionDetails>);
        foreach (var (command, _) in enqueues)
        {
            if (command.Details is { } d)
            {
                details.TryAdd(command.MessageId, d.Node is null ? d with { Node = node } : d);
            }
        }

        var results = default(ByMessage<DeliveryResult>);
        foreach (var (messageId, result, _) in outcomes)
        {
            results.Set(messageId, result);
        }

        if (details.IsEmpty && results.IsEmpty)
        {
            return events;
        }

        var annotated = new IQueueMessage[events.Count];
        for (var i = 0; i < events.Count; i++)
        {
            annotated[i] = events[i] switch
            {
                Enqueued enqueued when details.Remove(enqueued.MessageId, out var reception) => enqueued with { Details = reception },
                AttemptCompleted attempt when results.Remove(attempt.MessageId, out var result) => attempt with { Details = Attempt(attempt, result, node) },
                var other => other,
            };
        }

        return annotated;
    }

    /// <summary>The peer of <paramref name="result"/>: its relay (<c>host[address]:port</c>) split in name and address.</summary>
    public static AttemptDetails Attempt(AttemptCompleted attempt, DeliveryResult result, string? node)
    {
        ArgumentNullException.ThrowIfNull(attempt);
        ArgumentNullException.ThrowIfNull(result);
        var (name, address) = SplitRelay(result.Relay ?? result.RemoteMta);
        return new AttemptDetails(attempt.MessageId, attempt.At, name, address, result.TlsProtocol, result.TlsCipher, node);
    }

    /// <summary><c>mx.example.com[192.0.2.1]:25</c> → (<c>mx.example.com</c>, <c>192.0.2.1:25</c>); a bare name stays a name.</summary>
    public static (string? Name, string? Address) SplitRelay(string? relay)
    {
        if (string.IsNullOrEmpty(relay))
        {
            return (null, null);
        }

        var open = relay.IndexOf('[', StringComparison.Ordinal);
        var close = relay.LastIndexOf(']');
        if (open < 0 || close < open)
        {
            return (relay, null);
        }

        var name = open == 0 ? null : relay[..open];
        var address = relay[(open + 1)..close] + relay[(close + 1)..];
        return (name, address.Length == 0 ? null : address);
    }

    /// <summary>A map by message id (ordinal) that holds its first entry inline: most writes carry one message, and a
    /// dictionary per write was a third of the queue's allocation per message (QueueAllocationProbe).</summary>
    private struct ByMessage<T>
        where T : class
    {
        private string? _firstId;
        private T? _first;
        private Dictionary<string, T>? _more;

        public readonly bool IsEmpty => _first is null && (_more is null || _more.Count == 0);

        /// <summary>Adds unless the id is there already (the first value wins).</summary>
        public void TryAdd(string id, T value)
        {
            if (_first is null && _more is null)
            {
                (_firstId, _first) = (id, value);
            }
            else if (!string.Equals(_firstId, id, StringComparison.Ordinal) || _first is null)
            {
                More().TryAdd(id, value);
            }
        }

        /// <summary>Adds or replaces (the last value wins).</summary>
        public void Set(string id, T value)
        {
            if ((_first is null && _more is null) || (_first is not null && string.Equals(_firstId, id, StringComparison.Ordinal)))
            {
                (_firstId, _first) = (id, value);
            }
            else
            {
                More()[id] = value;
            }
        }

        public bool Remove(string id, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out T? value)
        {
            if (_first is not null && string.Equals(_firstId, id, StringComparison.Ordinal))
            {
                (value, _first) = (_first, null);
                return true;
            }

            value = null;
            return _more is not null && _more.Remove(id, out value);
        }

        private Dictionary<string, T> More() => _more ??= new Dictionary<string, T>(StringComparer.Ordinal);
    }
}
