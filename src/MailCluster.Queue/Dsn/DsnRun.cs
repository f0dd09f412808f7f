using Akka.Actor;
using MailCluster.Queue.Acceptance;
using MailCluster.Queue.Spool;
using MailCluster.Queue.State;
using Microsoft.Extensions.Logging.Abstractions;

namespace MailCluster.Queue.Dsn;

/// <summary>The outcome of queueing one DSN (local only, never persisted).</summary>
/// <param name="DsnMessageId">The queue id of the DSN, or null when it was not queued.</param>
/// <param name="Retry">True when queueing failed for a reason that may pass (the reports stay and are retried).</param>
internal sealed record DsnFinished(string MessageId, IReadOnlyList<string> Recipients, string? DsnMessageId, bool Retry, string? Error);

/// <summary>
/// Builds and queues the DSN for the reports of one message, off the actor thread, through the acceptor mail from a
/// client goes through (<see cref="MessageAcceptor"/>: spool ‖ Enqueued in the sender's domain queue, then
/// commit), with the null reverse-path (RFC 3461 §6.2), so that a DSN is never itself bounced.
/// <para>Every try gets a fresh queue id, the acceptor's precondition: a retry never reuses the id of a failed try,
/// whose Enqueued event may be durable with its body deleted or left uncommitted. That failed try is never delivered
/// (its queue abandons it after the commit grace, and the orphan sweep frees what is left), so a DSN is queued at most
/// once per success; a duplicate is possible only when a commit succeeded but was reported failed (at-least-once).</para>
/// </summary>
internal static class DsnRun
{
    public static async Task<DsnFinished> Start(QueueServices services, QueuedMessage message)
    {
        var reports = message.Reports;
        IReadOnlyList<string> recipients = [.. reports.Select(r => r.Recipient)];
        try
        {
            var entry = await services.Spool.ReadAsync(message.MessageId, CancellationToken.None).ConfigureAwait(false);
            ReadOnlyMemory<byte>? body = entry.Status == SpoolStatus.Committed ? entry.Body : null;
            var request = new DsnRequest(
                services.ReportingMta,
                message.MessageId,
                message.Sender,
                message.ArrivedAt,
                message.Dsn?.EnvId,
                message.Dsn?.Ret,
                [.. reports.Select(r => (r, message.OriginalRecipientOf(r.Recipient)))],
                body,
                services.Clock.GetUtcNow());
            byte[] dsn;
            try
            {
                dsn = DsnBuilder.Build(request);
            }
            catch (Exception e) when (e is FormatException or MimeKit.ParseException or ArgumentException)
            {
                // E.g. a sender MimeKit cannot parse as an address: no DSN can ever be built; drop the reports.
                return new DsnFinished(message.MessageId, recipients, null, false, e.Message);
            }

            // Not counted in the acceptance metrics, which measure mail from clients.
            var acceptor = new MessageAcceptor(
                services.Spool, services.DomainQueues(), services.Buckets, services.Options, services.Clock, NullLogger<MessageAcceptor>.Instance);
            string id = MessageIds.New(); // fresh for every try (see above)
            var accepted = await acceptor.AcceptAsync(id, "", [message.Sender], null, dsn, CancellationToken.None).ConfigureAwait(false);
            if (accepted.Outcome != AcceptOutcome.Accepted)
            {
                return new DsnFinished(message.MessageId, recipients, null, true, accepted.Error);
            }

            services.Metrics.OnDsnQueued(reports.Select(r => r.Action));
            return new DsnFinished(message.MessageId, recipients, id, false, null);
        }
#pragma warning disable CA1031 // Whatever fails here is retried later; it must not kill the entity.
        catch (Exception e)
#pragma warning restore CA1031
        {
            return new DsnFinished(message.MessageId, recipients, null, true, e.Message);
        }
    }
}
