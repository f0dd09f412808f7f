using System.Net;
using DnsClient;
using MailCluster.Outbound.Dane;
using MailCluster.Outbound.TlsRpt;
using MailCluster.Queue.Delivery;
using Microsoft.Extensions.Logging;

namespace MailCluster.Outbound;

/// <summary>DANE for SMTP (RFC 7672): the TLS policy of each MX host from its DNSSEC-validated TLSA records.</summary>
public sealed partial class NextHopConnector
{
    /// <summary>
    /// The DANE verdict of each MX host of an MX-routed domain without the operator's own TLS policy, or null when
    /// DANE is off, does not apply to the route, or the domain's MX lookup is not DNSSEC-validated (RFC 7672 §2.2.1).
    /// When any host has a verdict other than "not applicable", DANE decides for the domain and MTA-STS is not consulted
    /// (RFC 8461 §2: DANE takes precedence); hosts without TLSA records keep the destination's own policy.
    /// </summary>
    private async Task<IReadOnlyDictionary<string, DaneVerdict>?> DaneVerdictsAsync(string domain, DestinationPolicy policy, MxResolution resolution, CancellationToken ct)
    {
        if (_security.Dane is not { } dane || policy.Route.Kind != RouteKind.Mx || policy.TlsFromDomainEntry)
        {
            return null;
        }

        // An implicit MX (no MX records, the domain's own address) is secure when its address lookup is.
        var mx = await dane.SecurityOfAsync(domain, QueryType.MX, ct).ConfigureAwait(false);
        if (mx == DnsSecurity.Indeterminate)
        {
            // The MX resolver got an answer and this one did not: decided per host below as indeterminate (defer).
            mx = DnsSecurity.Secure;
        }

        var verdicts = new Dictionary<string, DaneVerdict>(StringComparer.OrdinalIgnoreCase);
        foreach (var target in resolution.Targets)
        {
            if (verdicts.ContainsKey(target.Host))
            {
                continue;
            }

            var address = await dane.AddressAsync(target.Host, ct).ConfigureAwait(false);
            var (tlsa, tlsaBase) = mx == DnsSecurity.Secure && address.Security == DnsSecurity.Secure
                ? await TlsaAsync(dane, target.Host, address.ExpandedName, ct).ConfigureAwait(false)
                : (null, target.Host);
            var verdict = address.Security == DnsSecurity.Indeterminate && mx == DnsSecurity.Secure
                ? new DaneVerdict(DaneVerdictKind.Defer, [], $"address lookup of {target.Host} failed")
                : DaneVerdict.Decide(mx, address.Security, tlsa);
            if (!string.Equals(address.ExpandedName, target.Host.TrimEnd('.'), StringComparison.OrdinalIgnoreCase))
            {
                // RFC 7672 §3.2.2: a DANE-TA certificate may name the alias or its target.
                verdict = verdict with { ReferenceNames = [address.ExpandedName], Reason = tlsa is null ? verdict.Reason : $"{verdict.Reason}; TLSA at {tlsaBase}" };
            }

            verdicts[target.Host] = verdict;
            LogDaneVerdict(domain, target.Host, verdict.Kind, verdict.Reason);
        }

        return verdicts.Values.Any(v => v.Kind != DaneVerdictKind.NotApplicable) ? verdicts : null;
    }

    /// <summary>The TLSA records of an MX host, at its CNAME-expanded name first, then at its own name
    /// (<see cref="TlsaBaseDomain"/>), with the base domain that answered.</summary>
    private async Task<(TlsaLookup Lookup, string BaseDomain)> TlsaAsync(DaneResolver dane, string host, string expanded, CancellationToken ct)
    {
        TlsaLookup? lookup = null;
        string used = host;
        foreach (string name in TlsaBaseDomain.Candidates(host, expanded))
        {
            used = name;
            lookup = await dane.TlsaAsync(name, _options.Port, ct).ConfigureAwait(false);
            if (TlsaBaseDomain.Settles(lookup))
            {
                break;
            }
        }

        return (lookup!, used);
    }

    /// <summary>The TLS policy for one MX host under DANE: authenticate against its usable records, or TLS without
    /// authentication when its records are all unusable; never clear text either way (Required and Verify have no
    /// clear fallback). Null means defer this host.</summary>
    private static TlsPolicy? DaneTls(TlsPolicy destination, DaneVerdict verdict) => verdict.Kind switch
    {
        DaneVerdictKind.Authenticate => new TlsPolicy(TlsMode.Verify, TlsPolicySource.Dane, verdict.ReferenceNames) { Trust = destination.Trust, DaneRecords = verdict.Usable },
        DaneVerdictKind.EncryptOnly => new TlsPolicy(TlsMode.Required, TlsPolicySource.Dane, []) { Trust = destination.Trust },
        DaneVerdictKind.Defer => null,
        _ => destination,
    };

    private void RecordDaneDeferral(string domain, string host, DaneVerdict verdict) =>
        _security.Reports.Record(new TlsRptSession(domain, TlsRptPolicyType.Tlsa, null, TlsRptResult.DnssecInvalid, host, null));

    private static OpenResult DaneDeferred(string host, DaneVerdict verdict) =>
        new(null, host, $"{host}: DANE: {verdict.Reason}", false) { Certificate = CertificateVerdict.ValidationFailure };

    [LoggerMessage(Level = LogLevel.Information, Message = "DANE for MX host {Host} of {Domain}: {Verdict} ({Reason})")]
    private partial void LogDaneVerdict(string domain, string host, DaneVerdictKind verdict, string reason);
}
