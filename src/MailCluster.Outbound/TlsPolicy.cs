using System.Net.Security;

namespace MailCluster.Outbound;

/// <summary>How much TLS a destination demands (RFC 3207 STARTTLS; RFC 7435 opportunistic security).</summary>
public enum TlsMode
{
    /// <summary>Never STARTTLS, even when offered.</summary>
    None,
    /// <summary>STARTTLS when offered, any certificate; clear text when not offered (the default, as Postfix "may").</summary>
    Opportunistic,
    /// <summary>STARTTLS or nothing: a server that does not offer it, or a failed handshake, gets no message in clear.</summary>
    Required,
    /// <summary>As <see cref="Required"/>, and the certificate must chain to a trusted root and match the host name.</summary>
    Verify,
}

/// <summary>Where a policy came from. MTA-STS (RFC 8461) and DANE (RFC 7672) will produce policies of the same
/// shape (a mode plus the names a certificate may match), so the connection code needs no change for them.</summary>
public enum TlsPolicySource
{
    Default,
    Configuration,
    MtaSts,
    Dane,
}

/// <summary>The TLS policy for one destination, decided before connecting; pure.</summary>
/// <param name="AllowedNames">Names the certificate may match under <see cref="TlsMode.Verify"/>; empty means "the
/// host name connected to" (the MX name). MTA-STS supplies its "mx" patterns here.</param>
public sealed record TlsPolicy(TlsMode Mode, TlsPolicySource Source, IReadOnlyList<string> AllowedNames)
{
    public static readonly TlsPolicy Default = new(TlsMode.Opportunistic, TlsPolicySource.Default, []);

    /// <summary>Parses <c>none|opportunistic|required|verify</c> (case-insensitive); null for anything else.</summary>
    public static TlsMode? ParseMode(string? value) => value?.Trim().ToUpperInvariant() switch
    {
        "NONE" => TlsMode.None,
        "OPPORTUNISTIC" or "MAY" => TlsMode.Opportunistic,
        "REQUIRED" or "ENCRYPT" => TlsMode.Required,
        "VERIFY" => TlsMode.Verify,
        _ => null,
    };

    /// <summary>Whether a certificate with <paramref name="errors"/> (from SslStream's validation against the host
    /// name connected to) may be used. Only <see cref="TlsMode.Verify"/> checks anything: encryption
    /// without authentication still beats clear text (RFC 7435 §3), and MX certificates often name another host.</summary>
    public bool AcceptCertificate(SslPolicyErrors errors) => Mode != TlsMode.Verify || errors == SslPolicyErrors.None;

    /// <summary>As <see cref="AcceptCertificate(SslPolicyErrors)"/>, given the verdict of <see cref="Trust"/>.</summary>
    public bool AcceptCertificate(CertificateVerdict verdict) => Mode != TlsMode.Verify || verdict == CertificateVerdict.Valid;

    /// <summary>The roots a certificate may chain to under <see cref="TlsMode.Verify"/> (system roots plus
    /// <c>MailCluster:Outbound:CaCertificatesPath</c>).</summary>
    public CertificateTrust Trust { get; init; } = CertificateTrust.System;

    /// <summary>DANE (RFC 7672): the usable TLSA records the MX host must authenticate against (instead of the Web
    /// PKI), with the names a DANE-TA chain may carry in <see cref="AllowedNames"/>; null when DANE does not apply.</summary>
    public IReadOnlyList<Dane.TlsaRecord>? DaneRecords { get; init; }

    /// <summary>The MTA-STS policy domain this policy enforces or tests (RFC 8461), for TLS-RPT; null otherwise.</summary>
    public MtaSts.MtaStsPolicy? StsPolicy { get; init; }

    /// <summary>
    /// The policy for a second connection to the same address after the STARTTLS handshake failed, or null when the
    /// policy forbids one in clear. Opportunistic TLS retries in clear, as Postfix's "may" level does (RFC 7435 §3:
    /// the fallback is the unencrypted baseline, not a failure); required and verify never do (RFC 3207 §4.1: the
    /// message waits, a transient failure).
    /// </summary>
    public TlsPolicy? AfterHandshakeFailure => Mode == TlsMode.Opportunistic ? this with { Mode = TlsMode.None } : null;

    /// <summary>True when a session that ended up in clear text may carry a message.</summary>
    public bool AllowsClearText => Mode is TlsMode.None or TlsMode.Opportunistic;
}
