using MailCluster.Queue.Delivery;
using MailCluster.Queue.Protocol;

namespace MailCluster.Queue.State;

/// <summary>Which delivery status notification a recipient result calls for (RFC 3461 §4.1, RFC 3464 §2.3.3); pure.</summary>
public static class DsnPolicy
{
    public const string Failed = "failed";
    public const string Delayed = "delayed";
    public const string Delivered = "delivered";
    public const string Relayed = "relayed";

    /// <summary>
    /// Never for the null reverse-path (a bounce of a bounce would loop, RFC 5321 §4.5.5) or NOTIFY=NEVER.
    /// Without NOTIFY the default is FAILURE,DELAY (RFC 3461 §4.1 lets the MTA choose; delay warnings are off
    /// unless configured). Failed and expired recipients report "failed"; a deferred one reports "delayed" once,
    /// after <paramref name="delayWarning"/>; a delivered one reports only for NOTIFY=SUCCESS: "delivered" at a
    /// final mailbox store (LMTP), "relayed" to a next hop without DSN, nothing to one with DSN (the parameters were
    /// passed on and the next hop reports, §4.2).
    /// </summary>
    /// <param name="age">The message's age when the result was decided.</param>
    /// <param name="delayWarning">Zero or negative: no delay warnings.</param>
    public static string? ReportFor(string sender, string? notify, RecipientResultKind kind, bool alreadyWarned, TimeSpan age,
        TimeSpan delayWarning, DeliveryResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        if (string.IsNullOrEmpty(sender) || (notify?.Contains("NEVER", StringComparison.Ordinal) ?? false))
        {
            return null;
        }

        bool wants(string what) => notify is null ? what is "FAILURE" or "DELAY" : notify.Contains(what, StringComparison.Ordinal);
        return kind switch
        {
            RecipientResultKind.Failed or RecipientResultKind.Expired when wants("FAILURE") => Failed,
            RecipientResultKind.Deferred when delayWarning > TimeSpan.Zero && age >= delayWarning && !alreadyWarned && wants("DELAY") => Delayed,
            RecipientResultKind.Delivered when wants("SUCCESS") => result.FinalDelivery ? Delivered : result.RemoteOffersDsn ? null : Relayed,
            _ => null,
        };
    }
}
