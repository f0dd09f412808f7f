using System.Net;
using MailCluster.Outbound.MtaSts;
using MailCluster.Outbound.TlsRpt;
using MailCluster.Queue.Delivery;
using Microsoft.Extensions.Logging;

namespace MailCluster.Outbound;

/// <summary>MTA-STS (RFC 8461 §5) over the destination policy, and the TLS-RPT count of each session (RFC 8460).</summary>
public sealed partial class NextHopConnector
{
    private sealed record Secured(DestinationPolicy Policy, MxResolution Resolution, ConnectFailure? Failure);

    /// <summary>
    /// For an MX-routed domain without the operator's own TLS policy: <c>enforce</c> keeps only the MX hosts the
    /// policy names and demands TLS with a certificate valid for the MX name (no clear-text fallback: Verify has
    /// none); no matching MX defers the mail with 4.7.5. <c>testing</c> delivers as before, with the policy attached so
    /// that failures are counted; <c>none</c> and no policy change nothing. The extra trust roots apply either way.
    /// </summary>
    private async Task<Secured> ApplyMtaStsAsync(string domain, DestinationPolicy policy, MxResolution resolution, CancellationToken cancellationToken)
    {
        policy = policy with { Tls = policy.Tls with { Trust = _security.Trust } };
        if (_security.Sts is null || policy.Route.Kind != RouteKind.Mx || policy.TlsFromDomainEntry)
        {
            return new Secured(policy, resolution, null);
        }

        var lookup = await _security.Sts.GetAsync(domain, cancellationToken).ConfigureAwait(false);
        if (lookup.FetchFailure is { } fetchFailure)
        {
            _security.Reports.Record(new TlsRptSession(domain, TlsRptPolicyType.Sts, null, fetchFailure, null, null));
        }

        if (lookup.Policy is not { Mode: not MtaStsMode.None } sts)
        {
            return new Secured(policy, resolution, null);
        }

        if (sts.Mode == MtaStsMode.Testing)
        {
            return new Secured(policy with { Tls = policy.Tls with { StsPolicy = sts } }, resolution, null);
        }

        var matching = resolution.Targets.Where(t => sts.AllowsMx(t.Host)).ToList();
        foreach (var other in resolution.Targets.Where(t => !sts.AllowsMx(t.Host)))
        {
            LogMxNotInPolicy(domain, other.Host);
            _security.Reports.Record(new TlsRptSession(domain, TlsRptPolicyType.Sts, sts.Text, TlsRptResult.ValidationFailure, other.Host, null));
        }

        if (matching.Count == 0)
        {
            string hosts = string.Join(", ", resolution.Targets.Select(t => t.Host));
            return new Secured(policy, resolution, new ConnectFailure(OutcomeKind.Transient, 0, "4.7.5",
                $"no MX host of {domain} ({hosts}) matches its MTA-STS policy (mx: {string.Join(", ", sts.Mx)})", null, false));
        }

        var tls = new TlsPolicy(TlsMode.Verify, TlsPolicySource.MtaSts, sts.Mx) { Trust = _security.Trust, StsPolicy = sts };
        return new Secured(policy with { Tls = tls }, MxResolution.Ok(matching), null);
    }

    /// <summary>One TLS-RPT count per session attempt that reached the TLS decision; plain connect failures are not
    /// TLS sessions and are not counted.</summary>
    private void RecordSession(string domain, TlsPolicy tls, string host, IPAddress address, OpenResult open)
    {
        if (tls.Mode == TlsMode.None || (open.Connection is null && !IsTlsFailure(open)))
        {
            return;
        }

        TlsRptResult result;
        if (open.Connection is not null)
        {
            result = open.Connection.TlsProtocol is null
                ? TlsRptResult.StartTlsNotSupported
                : TlsRptNames.Of(open.Certificate ?? CertificateVerdict.ValidationFailure);

            // Without a policy a session is a success once it is encrypted: nothing was demanded of the certificate.
            if (tls.StsPolicy is null && tls.DaneRecords is null && open.Connection.TlsProtocol is not null)
            {
                result = TlsRptResult.Success;
            }
        }
        else
        {
            result = open.StartTlsMissing ? TlsRptResult.StartTlsNotSupported
                : open.Certificate is { } verdict and not CertificateVerdict.Valid ? TlsRptNames.Of(verdict)
                : TlsRptResult.ValidationFailure;
        }

        var type = tls.Source == TlsPolicySource.Dane ? TlsRptPolicyType.Tlsa
            : tls.StsPolicy is null ? TlsRptPolicyType.NoPolicyFound : TlsRptPolicyType.Sts;
        string? text = tls.Source == TlsPolicySource.Dane ? string.Join('\n', tls.DaneRecords ?? []) : tls.StsPolicy?.Text;
        _security.Reports.Record(new TlsRptSession(domain, type, text, result, host, address.ToString()));
    }

    private static bool IsTlsFailure(OpenResult open) =>
        open.StartTlsMissing || open.TlsHandshakeFailed || open.Certificate is { } v && v != CertificateVerdict.Valid;

    [LoggerMessage(Level = LogLevel.Warning, Message = "MX host {Host} of {Domain} is not in its MTA-STS policy (enforce); not used")]
    private partial void LogMxNotInPolicy(string domain, string host);
}
