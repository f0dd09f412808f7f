using MailCluster.Queue.Contracts;
using MailCluster.Queue.Events;
using MailCluster.Queue.Protocol;
using MailCluster.Queue.State;

namespace MailCluster.Events;

/// <summary>
/// Pure: turns one journal event of a domain queue into delivery events (issue 16), given what is known of its message.
/// <list type="bullet">
/// <item><c>Enqueued</c> → a Reception per recipient of the queue's domain, with its <c>Details</c> when it carries them.</item>
/// <item><c>ReceptionDetails</c> (a row of its own, written by the release that introduced events) → no event;
/// remembered for the Enqueued that follows it in the same write.</item>
/// <item><c>AttemptDetails</c> (likewise) → no event; the next hop of the AttemptCompleted that follows it (which
/// otherwise carries its details itself).</item>
/// <item><c>AttemptCompleted</c> → per recipient: Delivery, TransientFailure (and Delayed when a delay notice is due),
/// Bounce, Expiration, or AdminBounce for an operator's bounce (which is no attempt).</item>
/// </list>
/// Event ids are the journal row's ordering and the event's index in it: replaying a row yields the same ids.
/// </summary>
public static class EventMapper
{
    /// <param name="Finished">True when an outcome left the message no recipient pending: its context can go.</param>
    public sealed record Result(IReadOnlyList<DeliveryEvent> Events, MessageContext? Context, bool Finished = false);

    public static readonly Result Nothing = new([], null);

    /// <param name="ordering">The journal row's ordering (unique, cluster-wide).</param>
    /// <param name="context">The message's context so far, or null when none is known.</param>
    /// <param name="classifier">Labels failures; null when no classifier is registered.</param>
    public static Result Map(long ordering, object journalEvent, MessageContext? context, IBounceClassifier? classifier)
    {
        return journalEvent switch
        {
            Enqueued { Details: { } d } e => Map(ordering, e with { Details = null }, Map(ordering, d, context, classifier).Context, classifier),
            AttemptCompleted { Details: { } d } a => Map(ordering, a with { Details = null }, Map(ordering, d, context, classifier).Context, classifier),
            ReceptionDetails d => new([], Context(context, d.MessageId) with
            {
                HeaderMessageId = d.HeaderMessageId,
                Size = d.Size,
                Credential = d.Credential,
                Meta = d.Meta,
                Client = d.PeerName is null && d.PeerAddress is null ? null : new EventPeer(d.PeerName, d.PeerAddress),
                ClientTls = d.TlsProtocol is null ? null : new EventTls(d.TlsProtocol, d.TlsCipher),
                ReceptionNode = d.Node,
            }),
            Enqueued e => Reception(ordering, e, Enqueue(Context(context, e.MessageId), e)),
            AttemptDetails a => new([], Context(context, a.MessageId) with
            {
                AttemptPeer = a.PeerName is null && a.PeerAddress is null ? null : new EventPeer(a.PeerName, a.PeerAddress),
                AttemptTls = a.TlsProtocol is null ? null : new EventTls(a.TlsProtocol, a.TlsCipher),
                AttemptNode = a.Node,
            }),
            AttemptCompleted a => Attempt(ordering, a, Context(context, a.MessageId), classifier),
            _ => Nothing,
        };
    }

    /// <summary>A new context tracks its pending recipients from the start (an empty list); a stored one of an older
    /// release (null) stays untracked.</summary>
    private static MessageContext Context(MessageContext? known, string queueId) => known ?? new MessageContext { QueueId = queueId, Pending = [] };

    private static MessageContext Enqueue(MessageContext context, Enqueued e) =>
        context with { Sender = e.Sender, Created = e.ArrivedAt, Pending = Pend(context.Pending, e.Recipients, []) };

    /// <summary><paramref name="pending"/> with <paramref name="added"/> and without <paramref name="removed"/>; null
    /// (untracked) stays null.</summary>
    private static List<string>? Pend(IReadOnlyList<string>? pending, IEnumerable<string> added, IEnumerable<string> removed)
    {
        if (pending is null)
        {
            return null;
        }

        var set = new HashSet<string>(pending, StringComparer.OrdinalIgnoreCase);
        set.UnionWith(added);
        set.ExceptWith(removed);
        return [.. set];
    }

    private static Result Reception(long ordering, Enqueued e, MessageContext context)
    {
        var events = e.Recipients.Select((recipient, i) => new DeliveryEvent
        {
            EventId = Id(ordering, i),
            Type = EventTypes.Reception,
            QueueId = e.MessageId,
            MessageId = context.HeaderMessageId,
            Sender = e.Sender,
            Recipient = recipient,
            Domain = e.Domain,
            Size = context.Size,
            Response = new EventResponse(250, "2.0.0", $"queued as {e.MessageId}"),
            Peer = context.Client,
            Attempt = 0,
            Timestamp = e.ArrivedAt,
            Created = e.ArrivedAt,
            Tls = context.ClientTls,
            Node = context.ReceptionNode,
            Credential = context.Credential,
            Meta = context.Meta,
        }).ToList();
        return new(events, context);
    }

    private static Result Attempt(long ordering, AttemptCompleted a, MessageContext context, IBounceClassifier? classifier)
    {
        var attempts = new Dictionary<string, int>(context.Attempts, StringComparer.OrdinalIgnoreCase);
        var peer = context.AttemptPeer ?? (a.RemoteMta is null ? null : new EventPeer(a.RemoteMta, null));
        var tls = context.AttemptTls ?? (a.TlsProtocol is null ? null : new EventTls(a.TlsProtocol, null));
        var events = new List<DeliveryEvent>(a.Results.Count);
        foreach (var result in a.Results)
        {
            var admin = IsAdminBounce(result);
            var attempt = attempts.GetValueOrDefault(result.Recipient) + (admin ? 0 : 1);
            attempts[result.Recipient] = attempt;
            var type = admin ? EventTypes.AdminBounce : result.Kind switch
            {
                RecipientResultKind.Delivered => EventTypes.Delivery,
                RecipientResultKind.Deferred => EventTypes.TransientFailure,
                RecipientResultKind.Failed => EventTypes.Bounce,
                _ => EventTypes.Expiration,
            };
            var template = new DeliveryEvent
            {
                EventId = Id(ordering, events.Count),
                Type = type,
                QueueId = a.MessageId,
                MessageId = context.HeaderMessageId,
                Sender = context.Sender,
                Recipient = result.Recipient,
                Domain = DomainOf(result.Recipient),
                Size = context.Size,
                Response = new EventResponse(result.Code, result.EnhancedCode, result.Text),
                Peer = admin ? null : peer,
                Attempt = attempt,
                Timestamp = a.At,
                Created = context.Created,
                Tls = admin ? null : tls,
                BounceClassification = type == EventTypes.Delivery ? null : Classify(classifier, result),
                Node = context.AttemptNode,
                Credential = context.Credential,
                Meta = context.Meta,
            };
            events.Add(template);
            if (result.Kind == RecipientResultKind.Deferred && result.Report == "delayed")
            {
                events.Add(template with { EventId = Id(ordering, events.Count), Type = EventTypes.Delayed });
            }
        }

        // The attempt's next hop is consumed: the next outcome brings its own details (or has none). A deferred
        // recipient is pending whatever the context knew (one written before its Enqueued was read, or lost).
        var pending = Pend(context.Pending,
            a.Results.Where(r => r.Kind == RecipientResultKind.Deferred).Select(r => r.Recipient),
            a.Results.Where(r => r.Kind != RecipientResultKind.Deferred).Select(r => r.Recipient));
        return new(events, context with { Attempts = attempts, AttemptPeer = null, AttemptTls = null, AttemptNode = null, Pending = pending },
            Finished: pending is { Count: 0 });
    }

    /// <summary>An operator's bounce (<see cref="DomainQueueState.DecideBounce"/>): no reply code, the postmaster's text.</summary>
    private static bool IsAdminBounce(RecipientResult result) =>
        result.Kind == RecipientResultKind.Failed && result.Code == 0 && result.EnhancedCode == DomainQueueState.BouncedStatus
        && result.Text.StartsWith(DomainQueueState.BouncedText, StringComparison.Ordinal);

#pragma warning disable CA1031 // The contract says the classifier never throws; an implementation that does must not stop the projection.
    private static string? Classify(IBounceClassifier? classifier, RecipientResult result)
    {
        try
        {
            return classifier?.Classify(result.Code, result.EnhancedCode, result.Text);
        }
        catch (Exception)
        {
            return null;
        }
    }
#pragma warning restore CA1031

    public static string Id(long ordering, int index) => $"{ordering}.{index}";

    public static string? DomainOf(string address)
    {
        var at = address.LastIndexOf('@');
        return at < 0 ? null : address[(at + 1)..].ToLowerInvariant();
    }
}
