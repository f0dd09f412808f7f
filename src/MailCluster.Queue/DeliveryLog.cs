using MailCluster.Queue.Bounces;
using MailCluster.Queue.Protocol;
using MailCluster.Queue.State;
using Microsoft.Extensions.Logging;

namespace MailCluster.Queue;

/// <summary>
/// The delivery half of the mail log (issue 14; the edge half is MailCluster.Edge.MailLog): one Information record
/// per recipient per attempt, in the spirit of Postfix's <c>status=sent</c> line, with named properties an operator
/// filters on in JSON (<c>QueueId</c>, <c>Recipient</c>, <c>Relay</c>, <c>Delay</c>, <c>Attempt</c>, <c>Dsn</c>,
/// <c>Status</c>, <c>Classification</c>, <c>Reply</c>). Category <see cref="Category"/>; source-generated, so nothing is formatted or
/// allocated when the level is off.
/// </summary>
public static partial class DeliveryLog
{
    public const string Category = "MailCluster.DeliveryLog";

    /// <summary>The <c>Status</c> values, as Postfix names them.</summary>
    public static string StatusOf(RecipientResultKind kind) => kind switch
    {
        RecipientResultKind.Delivered => "sent",
        RecipientResultKind.Deferred => "deferred",
        RecipientResultKind.Failed => "bounced",
        RecipientResultKind.Expired => "expired",
        _ => kind.ToString(),
    };

    /// <summary>Logs every recipient of a decided attempt. <paramref name="message"/> is the message as it was before
    /// the attempt was applied: its arrival gives the delay, each recipient's attempt count (plus this one) the
    /// <c>Attempt</c>. An attempt on a message the queue no longer holds is not logged (nothing was decided).</summary>
    public static void Attempt(ILogger logger, AttemptCompleted attempt, QueuedMessage? message) =>
        Attempt(logger, attempt, message, DeliveryClassification.None);

    /// <summary>As above, and every deferral and bounce is labelled by <paramref name="classification"/> (the
    /// <c>Classification</c> property; <c>none</c> for a delivery), counted and, for a bounce, offered to the
    /// suppression list, whether or not the mail log is on.</summary>
    public static void Attempt(ILogger logger, AttemptCompleted attempt, QueuedMessage? message, DeliveryClassification classification)
    {
        ArgumentNullException.ThrowIfNull(logger);
        ArgumentNullException.ThrowIfNull(attempt);
        ArgumentNullException.ThrowIfNull(classification);
        if (message is null)
        {
            return;
        }

        if (!logger.IsEnabled(LogLevel.Information))
        {
            foreach (var r in attempt.Results)
            {
                classification.Observe(r);
            }

            return;
        }

        var delay = Math.Round(Math.Max(0, (attempt.At - message.ArrivedAt).TotalSeconds), 3);
        var relay = attempt.Relay ?? attempt.RemoteMta ?? "none";
        var tls = attempt.TlsProtocol ?? "none";
        foreach (var r in attempt.Results)
        {
            var pending = message.Pending.Find(p => string.Equals(p.Address, r.Recipient, StringComparison.Ordinal));
            var number = (pending?.Attempts ?? 0) + 1;
            var status = StatusOf(r.Kind);
            var reply = $"{r.Code} {r.EnhancedCode} {r.Text}";
            var label = classification.Observe(r) ?? "none";
            Outcome(logger, attempt.MessageId, r.Recipient, status, relay, delay, number, r.EnhancedCode, tls, label, reply);
        }
    }

    [LoggerMessage(EventId = 1400, EventName = "DeliveryOutcome", Level = LogLevel.Information,
        Message = "{QueueId}: to=<{Recipient}>, status={Status}, relay={Relay}, delay={Delay}, attempt={Attempt}, dsn={Dsn}, tls={Tls}, class={Classification} ({Reply})")]
    public static partial void Outcome(ILogger logger, string queueId, string recipient, string status, string relay, double delay, int attempt,
        string dsn, string tls, string classification, string reply);
}
