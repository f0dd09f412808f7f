using MailCluster.Outbound.MtaSts;
using MailCluster.Outbound.TlsRpt;

namespace MailCluster.Outbound;

/// <summary>What <see cref="NextHopConnector"/> needs beyond routing: the extra trust roots, the MTA-STS policies
/// (null when <c>MailCluster:Outbound:MtaSts</c> is false) and the TLS-RPT counters.</summary>
public sealed record TransportSecurity(CertificateTrust Trust, MtaStsPolicies? Sts, ITlsRptRecorder Reports)
{
    /// <summary>DANE's lookups (null unless <c>MailCluster:Outbound:Dane</c> is true).</summary>
    public Dane.DaneResolver? Dane { get; init; }

    public static readonly TransportSecurity None = new(CertificateTrust.System, null, NoTlsRptRecorder.Instance);
}
