namespace MailCluster.Outbound.TlsRpt;

/// <summary>RFC 8460 §4.4 "policy-type".</summary>
public enum TlsRptPolicyType
{
    Sts,
    /// <summary>DANE (RFC 7672); not produced yet, kept so that DANE adds rows of the same shape.</summary>
    Tlsa,
    NoPolicyFound,
}

/// <summary>RFC 8460 §4.3 "result-type" of a failed session; <see cref="Success"/> counts the successful ones.</summary>
public enum TlsRptResult
{
    Success,
    StartTlsNotSupported,
    CertificateHostMismatch,
    CertificateExpired,
    CertificateNotTrusted,
    ValidationFailure,
    StsPolicyFetchError,
    StsPolicyInvalid,
    StsWebPkiInvalid,
    TlsaInvalid,
    DnssecInvalid,
    DaneRequired,
}

/// <summary>The wire names of RFC 8460.</summary>
public static class TlsRptNames
{
    public static string Of(TlsRptPolicyType type) => type switch
    {
        TlsRptPolicyType.Sts => "sts",
        TlsRptPolicyType.Tlsa => "tlsa",
        _ => "no-policy-found",
    };

    public static string Of(TlsRptResult result) => result switch
    {
        TlsRptResult.Success => "success",
        TlsRptResult.StartTlsNotSupported => "starttls-not-supported",
        TlsRptResult.CertificateHostMismatch => "certificate-host-mismatch",
        TlsRptResult.CertificateExpired => "certificate-expired",
        TlsRptResult.CertificateNotTrusted => "certificate-not-trusted",
        TlsRptResult.ValidationFailure => "validation-failure",
        TlsRptResult.StsPolicyFetchError => "sts-policy-fetch-error",
        TlsRptResult.StsPolicyInvalid => "sts-policy-invalid",
        TlsRptResult.StsWebPkiInvalid => "sts-webpki-invalid",
        TlsRptResult.TlsaInvalid => "tlsa-invalid",
        TlsRptResult.DnssecInvalid => "dnssec-invalid",
        _ => "dane-required",
    };

    public static TlsRptResult Of(CertificateVerdict verdict) => verdict switch
    {
        CertificateVerdict.Valid => TlsRptResult.Success,
        CertificateVerdict.HostMismatch => TlsRptResult.CertificateHostMismatch,
        CertificateVerdict.Expired => TlsRptResult.CertificateExpired,
        _ => TlsRptResult.ValidationFailure,
    };
}
