namespace MailCluster.Outbound.Dane;

/// <summary>What a DNSSEC-aware lookup says about an RRset (RFC 4035 §4.3 security status as seen by a stub resolver
/// behind a validating one, or by in-process validation).</summary>
public enum DnsSecurity
{
    /// <summary>Validated (the AD bit from a resolver the operator declares validating).</summary>
    Secure,

    /// <summary>Answered, but not validated: an unsigned zone, or a resolver that does not validate.</summary>
    Insecure,

    /// <summary>No usable answer: SERVFAIL (what a validating resolver answers for bogus data), a timeout, a malformed
    /// reply. RFC 7672 §2.1.1: the client cannot tell an attack from an outage, so it must not proceed.</summary>
    Indeterminate,
}

/// <summary>The answer to the TLSA query of <c>_port._tcp.host</c> (RFC 7672 §2.2.3).</summary>
/// <param name="Security">The status of the answer (for an empty answer: of its denial of existence).</param>
/// <param name="Records">The TLSA records; empty for NXDOMAIN or NODATA.</param>
/// <param name="Error">Why the lookup was indeterminate (for the log and TLS-RPT).</param>
public sealed record TlsaLookup(DnsSecurity Security, IReadOnlyList<TlsaRecord> Records, string? Error = null)
{
    public static TlsaLookup Failed(string error) => new(DnsSecurity.Indeterminate, [], error);
}
