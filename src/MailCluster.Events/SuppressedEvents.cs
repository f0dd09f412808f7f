using MailCluster.Queue.Contracts;

namespace MailCluster.Events;

/// <summary>Records a recipient refused at acceptance for being suppressed as a durable Suppressed event (issue 16),
/// written directly to the events table (nothing is queued for it, so the journal has no trace of it). Awaited by the
/// caller before it answers, so an answered refusal has its event.</summary>
public sealed class SuppressedEvents(EventStore store, string node) : ISuppressedRecipients
{
    public async ValueTask RecordAsync(SuppressedRecipient refused, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(refused);
        await store.AppendAsync([ToEvent(refused, "s" + Guid.NewGuid().ToString("N"), node)], cancellationToken).ConfigureAwait(false);
    }

    public static DeliveryEvent ToEvent(SuppressedRecipient refused, string eventId, string? node)
    {
        ArgumentNullException.ThrowIfNull(refused);
        return new DeliveryEvent
        {
            EventId = eventId,
            Type = EventTypes.Suppressed,
            QueueId = null,
            Sender = refused.Sender,
            Recipient = refused.Recipient,
            Domain = EventMapper.DomainOf(refused.Recipient),
            Response = new EventResponse(550, "5.7.1", refused.Reason),
            Attempt = 0,
            Timestamp = refused.Timestamp,
            Created = refused.Timestamp,
            Node = node,
            Credential = refused.Credential,
            Meta = refused.Meta is { Count: > 0 } meta ? meta : null,
        };
    }
}
