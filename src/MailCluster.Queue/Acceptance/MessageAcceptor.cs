using Akka.Actor;
using MailCluster.Queue.Protocol;
using MailCluster.Queue.Spool;
using Microsoft.Extensions.Logging;

namespace MailCluster.Queue.Acceptance;

/// <summary>
/// Makes an incoming message durable before the edge says 250 (DESIGN invariant 1):
/// spool the body (uncommitted) → every recipient domain's queue persists Enqueued → commit the body.
/// Only a completed commit returns <see cref="AcceptOutcome.Accepted"/>. A failure anywhere returns
/// <see cref="AcceptOutcome.Failed"/> (the edge answers 451 4.3.0); whatever was written stays uncommitted,
/// is never delivered, and is abandoned by its domain queue after the commit grace.
/// </summary>
public sealed partial class MessageAcceptor(ISpoolStore spool, IActorRef domainQueues, QueueOptions options, TimeProvider clock, ILogger<MessageAcceptor> logger)
{
    public async Task<AcceptResult> AcceptAsync(string messageId, string sender, IReadOnlyList<string> recipients, DsnEnvelope? dsn, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(recipients);
        var byDomain = RecipientDomains.ByDomain(recipients);
        var arrivedAt = clock.GetUtcNow();
        var timeout = TimeSpan.FromSeconds(options.EnqueueTimeoutSeconds);
        try
        {
            await spool.WriteAsync(messageId, body, byDomain.Keys, cancellationToken).ConfigureAwait(false);
            var acks = byDomain.Select(kv =>
                domainQueues.Ask<EnqueueAck>(new Enqueue(kv.Key, messageId, sender, kv.Value, arrivedAt, RecipientDomains.ForDomain(dsn, kv.Value)), timeout, cancellationToken));
            await Task.WhenAll(acks).ConfigureAwait(false);
            await spool.CommitAsync(messageId, cancellationToken).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // Any failure before the commit must become a 451, never a crash of the session.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LogFailed(logger, ex, messageId);
            _ = spool.DeleteUncommittedAsync(messageId, CancellationToken.None).ContinueWith(
                static _ => { }, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            return new AcceptResult(AcceptOutcome.Failed, messageId, ex.Message);
        }

        foreach (var domain in byDomain.Keys)
        {
            domainQueues.Tell(new MessageCommitted(domain, messageId));
        }

        LogAccepted(logger, messageId, sender, recipients.Count, body.Length);
        return new AcceptResult(AcceptOutcome.Accepted, messageId, null);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Acceptance of {MessageId} failed; answering 451")]
    private static partial void LogFailed(ILogger logger, Exception ex, string messageId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Queued {MessageId} from <{Sender}> for {Recipients} recipients, {Size} bytes")]
    private static partial void LogAccepted(ILogger logger, string messageId, string sender, int recipients, int size);
}

public enum AcceptOutcome
{
    Accepted,
    Failed,
}

public sealed record AcceptResult(AcceptOutcome Outcome, string MessageId, string? Error);
