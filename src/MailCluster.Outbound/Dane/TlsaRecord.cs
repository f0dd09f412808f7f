using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace MailCluster.Outbound.Dane;

/// <summary>
/// One TLSA record (RFC 6698 §2.1) as SMTP uses it (RFC 7672 §3.1): certificate usage, selector, matching type and the
/// certificate association data. Pure; compares certificates, never looks anything up.
/// </summary>
public sealed record TlsaRecord(byte Usage, byte Selector, byte MatchingType, byte[] Data)
{
    /// <summary>DANE-TA(2): the trust anchor of the server's chain; the host name is checked.</summary>
    public const byte DaneTa = 2;

    /// <summary>DANE-EE(3): the server's own certificate or key; name and validity dates are not checked (RFC 7672 §3.1.1).</summary>
    public const byte DaneEe = 3;

    /// <summary>
    /// Whether an SMTP client can use the record (RFC 7672 §3.1.3): only DANE-TA and DANE-EE (PKIX-TA(0) and PKIX-EE(1)
    /// depend on the Web PKI, which SMTP clients cannot rely on, and count as unusable), selector Cert(0) or SPKI(1),
    /// matching type Full(0), SHA2-256(1) or SHA2-512(2) with data of the digest's length.
    /// </summary>
    public bool IsUsable => Usage is DaneTa or DaneEe && Selector is 0 or 1 && MatchingType switch
    {
        0 => Data.Length > 0,
        1 => Data.Length == SHA256.HashSizeInBytes,
        2 => Data.Length == SHA512.HashSizeInBytes,
        _ => false,
    };

    /// <summary>Whether <paramref name="certificate"/> has this record's association data (selector and matching type
    /// applied); false for an unusable record.</summary>
    public bool Matches(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        if (!IsUsable)
        {
            return false;
        }

        byte[] selected = Selector == 0 ? certificate.RawData : certificate.PublicKey.ExportSubjectPublicKeyInfo();
        byte[] associated = MatchingType switch
        {
            1 => SHA256.HashData(selected),
            2 => SHA512.HashData(selected),
            _ => selected,
        };
        return CryptographicOperations.FixedTimeEquals(associated, Data);
    }

    /// <summary>The record in presentation form ("3 1 1 ab12..."), for logs and TLS-RPT.</summary>
    public override string ToString() => $"{Usage} {Selector} {MatchingType} {Convert.ToHexStringLower(Data)}";
}
