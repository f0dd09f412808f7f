using MailCluster.Api.Access;
using MailCluster.Api.Messages;
using MailCluster.Api.Requests;
using MailCluster.Edge.Dkim;
using MailCluster.Edge.Session;
using MailCluster.Queue;
using MailCluster.Queue.Acceptance;
using MailCluster.Queue.Events;
using Microsoft.Extensions.Logging;

namespace MailCluster.Api;

/// <summary>
/// Generates and queues the messages of one request: one message per recipient (its own template rendering, queue
/// id, Message-ID and trace field), each made durable by the edge's <see cref="IMessageAcceptor"/> exactly like an
/// SMTP message (the acceptor's group commit batches the many messages of a request).
/// <para>The contract (README "HTTP injection"): every message is composed before the first is queued, so a template
/// error, an oversize message or a bad header queues nothing; then all are accepted side by side. The answer is
/// per recipient, as in KumoMTA: 200 when every message is durable; 503 when any acceptance failed, naming the
/// failed recipients, while the ones listed in <c>queue_ids</c> are durable and will be delivered (like separate SMTP
/// transactions). A retry with the same <c>Idempotency-Key</c> queues only the recipients not yet queued.</para>
/// </summary>
public sealed partial class Injector(IMessageAcceptor acceptor, string hostname, long maxMessageSize, DkimSigning? dkim, TimeProvider clock, ILogger<Injector> logger)
{
    /// <summary>Composed messages kept in memory between the check and the hand-off up to this total; beyond it the
    /// rest are composed again (twice the CPU rather than unbounded memory for 10,000 large messages).</summary>
    private const long KeepComposedBytes = 64L * 1024 * 1024;

    private const int Parallelism = 64;

    /// <param name="queuedBefore">For a retry with an idempotency key: the queue ids of recipients an earlier try
    /// queued (index-aligned); those are not queued again.</param>
    public async Task<InjectResponse> InjectAsync(
        InjectRequest request, InjectionCaller caller, string? client, string protocol, IReadOnlyList<string?>? queuedBefore, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(caller);
        var count = request.Recipients.Count;
        var composer = new MessageComposer(request);
        var now = clock.GetUtcNow();
        var ids = new string?[count];
        var composed = new byte[]?[count];
        long kept = 0;
        for (var i = 0; i < count; i++)
        {
            if (queuedBefore is not null && i < queuedBefore.Count && queuedBefore[i] is { } earlier)
            {
                ids[i] = earlier;
                continue;
            }

            var id = MessageIds.New();
            var message = Message(composer, i, id, request, caller, client, protocol, now);
            ids[i] = id;
            if (kept + message.Length <= KeepComposedBytes)
            {
                composed[i] = message;
                kept += message.Length;
            }
        }

        var errors = new string?[count];
        var queued = new string?[count];
        var meta = MetaOf(request.Meta);
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = CancellationToken.None }, async (i, _) =>
        {
            if (queuedBefore is not null && i < queuedBefore.Count && queuedBefore[i] is { } earlier)
            {
                queued[i] = earlier;
                return;
            }

            var body = composed[i] ?? Message(composer, i, ids[i]!, request, caller, client, protocol, now);
            composed[i] = null;

            // The delivery events' record (issue 16): the request's meta, the API key, the client; Message-ID as composed.
            var details = new AcceptanceDetails(HeaderScan.MessageId(body), caller.Id, meta, null, client);
            var result = await acceptor.AcceptAsync(ids[i]!, request.EnvelopeSender, [request.Recipients[i].Email], null, body, details, CancellationToken.None).ConfigureAwait(false);
            if (result.Outcome == AcceptOutcome.Accepted)
            {
                queued[i] = result.MessageId;
            }
            else
            {
                errors[i] = $"{request.Recipients[i].Email}: not queued (temporary failure: {result.Error}); retry with the same Idempotency-Key to send only the recipients not queued";
            }
        }).ConfigureAwait(false);

        var failed = Enumerable.Range(0, count).Where(i => queued[i] is null).ToList();
        LogInjected(logger, caller.Name, count - failed.Count, failed.Count);
        return new InjectResponse(
            count - failed.Count,
            failed.Count,
            [.. failed.Select(i => request.Recipients[i].Email)],
            [.. failed.Select(i => errors[i]!)],
            queued);
    }

    /// <summary>The request's <c>meta</c> object as the events carry it: a string value as is, any other JSON value as its
    /// JSON text; at most <see cref="MetaHeaders.MaxFields"/> fields (the request reader has checked it is an object).</summary>
    private static Dictionary<string, string>? MetaOf(System.Text.Json.JsonElement? meta)
    {
        if (meta is not { ValueKind: System.Text.Json.JsonValueKind.Object } value)
        {
            return null;
        }

        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var field in value.EnumerateObject().Take(MetaHeaders.MaxFields))
        {
            fields[field.Name] = field.Value.ValueKind == System.Text.Json.JsonValueKind.String ? field.Value.GetString()! : field.Value.GetRawText();
        }

        return fields;
    }

    private byte[] Message(MessageComposer composer, int index, string id, InjectRequest request, InjectionCaller caller, string? client, string protocol, DateTimeOffset now)
    {
        var text = composer.Compose(index, id, hostname, now);
        var message = InjectedMessage.Build(text, id, request.Recipients[index].Email, hostname, client, protocol, caller.Name, now, dkim, caller.MaySendAs);
        return message.Length <= maxMessageSize
            ? message
            : throw new RequestProblemException(new RequestProblem(413, $"the message for recipients[{index}] is {message.Length} bytes; the limit is {maxMessageSize}", "content"));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Injection by {Caller}: {Queued} messages queued, {Failed} failed")]
    private static partial void LogInjected(ILogger logger, string caller, int queued, int failed);
}
