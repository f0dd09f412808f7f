namespace MailCluster.Outbound.TlsRpt;

/// <summary>A row of <c>mc_tls_rpt_report</c> as a claimant sees it: who holds it, in which state, since when (unix
/// milliseconds; the holder renews it while it sends).</summary>
public sealed record TlsRptClaimRow(string Node, string State, long At)
{
    /// <summary>The state of a claim whose report is being sent; "sent" and "no-rua" are final.</summary>
    public const string Sending = "sending";
}

/// <summary>What a node does with a domain's report for an ended period.</summary>
public enum TlsRptClaimDecision
{
    /// <summary>No row: insert one (the insert is the claim; one node wins).</summary>
    Claim,

    /// <summary>A "sending" row whose lease ran out: its holder crashed or hangs; take it over (compare-and-set on
    /// the row as read, so that one node wins).</summary>
    TakeOver,

    /// <summary>A final row, or a live claim: nothing to do.</summary>
    Leave,
}

/// <summary>
/// The lease of a report claim; pure. A node that claims a report and then dies leaves the row "sending"; without a
/// lease no node would ever send that report. The holder renews <see cref="TlsRptClaimRow.At"/> before each rua
/// it sends to, and stops when the renewal finds the claim no longer its own, so a report is sent twice only when a
/// holder stalls longer than the lease between two renewals (the lease is far longer than one bounded delivery).
/// </summary>
public static class TlsRptClaim
{
    public static TlsRptClaimDecision Decide(TlsRptClaimRow? row, long nowMs, long leaseMs)
    {
        if (row is null)
        {
            return TlsRptClaimDecision.Claim;
        }

        return row.State == TlsRptClaimRow.Sending && nowMs - row.At >= leaseMs ? TlsRptClaimDecision.TakeOver : TlsRptClaimDecision.Leave;
    }
}
