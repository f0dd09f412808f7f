using MailCluster.Queue.Contracts;
using MailCluster.Queue.Events;
using MailCluster.Queue.Protocol;
using MailCluster.Queue.WarmUp;

namespace MailCluster.Events;

/// <summary>
/// The delivery events' code for a message, run once in memory before the node's listeners open (<see cref="ICodeWarmUp"/>):
/// the mapping of a reception and of a deferred attempt (<see cref="EventMapper"/>), the JSON of their events and of the
/// message context, and the bounce classifier on a reply no rule matches, so that each rule's matcher is built and
/// compiled then rather than on the first attempt's reply (a fresh node's first message compiled ~150 methods of the
/// non-backtracking regex engine; docs/BENCHMARKS.md, session s37). Nothing is stored, sent or logged.
/// </summary>
internal sealed class EventCodeWarmUp(IBounceClassifier? classifier = null) : ICodeWarmUp
{
    private const string Domain = DurablePathWarmUp.Domain;

    public void Run()
    {
        var at = DateTimeOffset.UtcNow;
        const string id = "WARM-UP";
        var recipient = "node@" + Domain;
        var reception = EventMapper.Map(
            1,
            new Enqueued(Domain, id, "start@" + Domain, [recipient], at)
            {
                Details = new ReceptionDetails(id, "<warm-up@warm-up.invalid>", 1200, null, null, Domain, "127.0.0.1", "TLSv1.3", "TLS_AES_256_GCM_SHA384", "warm-up"),
            },
            null,
            classifier);
        var attempt = EventMapper.Map(
            2,
            new AttemptCompleted(id, at, [new RecipientResult(recipient, RecipientResultKind.Deferred, 451, "4.4.1", "warm-up", at.AddMinutes(1))], "mx." + Domain, "TLSv1.3")
            {
                Details = new AttemptDetails(id, at, "mx." + Domain, "127.0.0.1", "TLSv1.3", "TLS_AES_256_GCM_SHA384", "warm-up"),
            },
            reception.Context,
            classifier);
        foreach (var e in reception.Events.Concat(attempt.Events))
        {
            DeliveryEvent.FromJson(e.ToJson());
        }

        if (attempt.Context is { } context)
        {
            MessageContext.FromJson(context.ToJson());
        }

        // A reply no rule matches: every rule's matcher runs once.
        classifier?.Classify(250, "2.0.0", "warm-up of the bounce rules");
    }
}
