using System.Security.Cryptography.X509Certificates;

namespace MailCluster.Outbound.Dane;

/// <summary>The TLS handshake's side of DANE: what the server presented, judged by <see cref="DaneAuthentication"/>.</summary>
internal static class DaneCertificates
{
    /// <summary>
    /// The verdict on the server's certificate under DANE: valid when it authenticates against <paramref name="records"/>
    /// (names checked for DANE-TA only: the MX host <paramref name="host"/> and <paramref name="otherNames"/>), else a
    /// validation failure (RFC 8460's "validation-failure"; DANE has no separate expiry or name verdicts for EE).
    /// The certificates the server sent beside its own are in the chain's extra store (SslStream puts them there).
    /// </summary>
    public static CertificateVerdict Verdict(X509Certificate? certificate, X509Chain? chain, string host, IReadOnlyList<string> otherNames, IReadOnlyList<TlsaRecord> records)
    {
        if (certificate is null)
        {
            return CertificateVerdict.ValidationFailure;
        }

        var leaf = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        var presented = new List<X509Certificate2> { leaf };
        if (chain is not null)
        {
            presented.AddRange(chain.ChainPolicy.ExtraStore.Where(c => !c.RawDataMemory.Span.SequenceEqual(leaf.RawDataMemory.Span)));
        }

        string? failure = DaneAuthentication.Check(presented, [host, .. otherNames], records, DateTimeOffset.UtcNow);
        return failure is null ? CertificateVerdict.Valid : CertificateVerdict.ValidationFailure;
    }
}
