using MailCluster.Queue.Delivery;
using MailCluster.Queue.Protocol;

namespace MailCluster.Queue.Events;

/// <summary>
/// Pure: interleaves the delivery-event details with the events of one group-commit write (issue 16). Each
/// <see cref="Enqueued"/> whose command carried <see cref="Enqueue.Details"/> is preceded by its
/// <see cref="ReceptionDetails"/>; each <see cref="AttemptCompleted"/> decided from a delivery result is preceded by
/// its <see cref="AttemptDetails"/>. Everything else, and the order of the queue's own events, is unchanged: the
/// details ride in the same atomic write, so an outcome is never persisted without them.
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
        var details = new Dictionary<string, ReceptionDetails>(StringComparer.Ordinal);
        foreach (var (command, _) in enqueues)
        {
            if (command.Details is { } d)
            {
                details.TryAdd(command.MessageId, d with { Node = d.Node ?? node });
            }
        }

        var results = new Dictionary<string, DeliveryResult>(StringComparer.Ordinal);
        foreach (var (messageId, result, _) in outcomes)
        {
            results[messageId] = result;
        }

        if (details.Count == 0 && results.Count == 0)
        {
            return events;
        }

        var annotated = new List<IQueueMessage>(events.Count * 2);
        foreach (var e in events)
        {
            if (e is Enqueued enqueued && details.Remove(enqueued.MessageId, out var reception))
            {
                annotated.Add(reception);
            }
            else if (e is AttemptCompleted attempt && results.Remove(attempt.MessageId, out var result))
            {
                annotated.Add(Attempt(attempt, result, node));
            }

            annotated.Add(e);
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
}
