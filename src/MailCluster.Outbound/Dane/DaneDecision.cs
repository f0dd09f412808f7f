namespace MailCluster.Outbound.Dane;

/// <summary>What DANE decides for one MX host before connecting (RFC 7672 §2.2, the decision table KumoMTA follows).</summary>
public enum DaneVerdictKind
{
    /// <summary>DANE does not apply here (an insecure MX or address lookup, or TLSA records securely absent or
    /// insecure): the next policy decides (MTA-STS, then the configured TLS policy).</summary>
    NotApplicable,

    /// <summary>Secure, usable TLSA records: TLS is required and the server must authenticate against one of them.</summary>
    Authenticate,

    /// <summary>Secure TLSA records, none usable: TLS is required (never clear text), without authentication
    /// (RFC 7672 §2.2: "mandatory, unauthenticated TLS").</summary>
    EncryptOnly,

    /// <summary>The TLSA lookup failed (SERVFAIL, bogus, timeout): do not connect now; a transient failure (4.7.5).</summary>
    Defer,
}

/// <param name="Usable">The records to authenticate against (for <see cref="DaneVerdictKind.Authenticate"/>).</param>
/// <param name="Reason">Why, in words, for the log, a deferral's reply text and TLS-RPT.</param>
public sealed record DaneVerdict(DaneVerdictKind Kind, IReadOnlyList<TlsaRecord> Usable, string Reason)
{
    /// <summary>Names a DANE-TA certificate may carry besides the MX host name: its CNAME-expanded name
    /// (RFC 7672 §3.2.2).</summary>
    public IReadOnlyList<string> ReferenceNames { get; init; } = [];

    /// <summary>
    /// The decision for an MX host reached through an MX (or implicit MX) lookup of status <paramref name="mx"/>, whose
    /// address lookup had status <paramref name="address"/>, and whose TLSA lookup answered <paramref name="tlsa"/>.
    /// <list type="bullet">
    /// <item>RFC 7672 §2.2.1: an MX RRset that is not secure gives no DANE protection (an attacker could have chosen the
    /// host); an indeterminate one never reaches here (the MX lookup itself defers).</item>
    /// <item>§2.2.2: TLSA records are only looked for when the host's address records are secure.</item>
    /// <item>§2.2.3: secure usable records → authenticate; secure but unusable → TLS without authentication; securely
    /// absent or insecure → not DANE; indeterminate (bogus data makes a validating resolver answer SERVFAIL) → defer.</item>
    /// </list>
    /// </summary>
    public static DaneVerdict Decide(DnsSecurity mx, DnsSecurity address, TlsaLookup? tlsa)
    {
        if (mx != DnsSecurity.Secure)
        {
            return NotApplicable("MX lookup not DNSSEC-validated");
        }

        if (address != DnsSecurity.Secure)
        {
            return NotApplicable("address lookup not DNSSEC-validated");
        }

        if (tlsa is null)
        {
            return NotApplicable("no TLSA lookup");
        }

        switch (tlsa.Security)
        {
            case DnsSecurity.Indeterminate:
                return new DaneVerdict(DaneVerdictKind.Defer, [], "TLSA lookup failed: " + (tlsa.Error ?? "no answer"));
            case DnsSecurity.Insecure:
                return NotApplicable("TLSA answer not DNSSEC-validated");
        }

        if (tlsa.Records.Count == 0)
        {
            return NotApplicable("no TLSA records (securely absent)");
        }

        var usable = tlsa.Records.Where(r => r.IsUsable).ToList();
        return usable.Count > 0
            ? new DaneVerdict(DaneVerdictKind.Authenticate, usable, $"{usable.Count} usable TLSA record(s)")
            : new DaneVerdict(DaneVerdictKind.EncryptOnly, [], "TLSA records present, none usable");
    }

    private static DaneVerdict NotApplicable(string reason) => new(DaneVerdictKind.NotApplicable, [], reason);
}
