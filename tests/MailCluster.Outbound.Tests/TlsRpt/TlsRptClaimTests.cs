using MailCluster.Outbound.TlsRpt;

namespace MailCluster.Outbound.Tests.TlsRpt;

/// <summary>The lease of a TLS-RPT report claim: the whole decision.</summary>
public sealed class TlsRptClaimTests
{
    private const long Lease = 60_000;

    [Theory]
    [InlineData(null, null, 0, TlsRptClaimDecision.Claim)] // no row: claim
    [InlineData("sending", 100_000L, 100_000 + Lease - 1, TlsRptClaimDecision.Leave)] // a live claim
    [InlineData("sending", 100_000L, 100_000 + Lease, TlsRptClaimDecision.TakeOver)] // its lease ran out
    [InlineData("sending", 100_000L, 0, TlsRptClaimDecision.Leave)] // a clock behind the holder's: still live
    [InlineData("sent", 100_000L, 100_000 + (10 * Lease), TlsRptClaimDecision.Leave)] // final states are never retried
    [InlineData("no-rua", 100_000L, 100_000 + (10 * Lease), TlsRptClaimDecision.Leave)]
    public void Decide(string? state, long? at, long now, TlsRptClaimDecision expected)
    {
        var row = state is null ? null : new TlsRptClaimRow("node-a", state, at!.Value);
        Assert.Equal(expected, TlsRptClaim.Decide(row, now, Lease));
    }
}
