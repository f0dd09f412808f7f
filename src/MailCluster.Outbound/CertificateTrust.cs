using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace MailCluster.Outbound;

/// <summary>What a peer's certificate proved, in RFC 8460 §4.3 terms (the TLS-RPT result types).</summary>
public enum CertificateVerdict
{
    Valid,
    /// <summary>"certificate-host-mismatch": the certificate does not name the host connected to.</summary>
    HostMismatch,
    /// <summary>"certificate-expired".</summary>
    Expired,
    /// <summary>"validation-failure": no chain to a trusted root (or no certificate at all).</summary>
    ValidationFailure,
}

/// <summary>
/// The roots a peer certificate may chain to: the system's, plus the PEM file of
/// <c>MailCluster:Outbound:CaCertificatesPath</c> (a private PKI, or a test CA). Used for MX certificates under
/// <see cref="TlsMode.Verify"/> (configured or from MTA-STS) and for MTA-STS policy hosts. Thread-safe.
/// </summary>
public sealed class CertificateTrust
{
    private readonly X509Certificate2Collection _extraRoots;

    public CertificateTrust(X509Certificate2Collection extraRoots) => _extraRoots = extraRoots;

    /// <summary>The system roots only.</summary>
    public static CertificateTrust System { get; } = new([]);

    /// <summary>Loads <paramref name="pemPath"/> (one or more PEM certificates); null or empty: the system roots only.</summary>
    /// <exception cref="InvalidOperationException">The file is missing or holds no certificate; the message names the key.</exception>
    public static CertificateTrust Load(string? pemPath)
    {
        if (string.IsNullOrWhiteSpace(pemPath))
        {
            return System;
        }

        var roots = new X509Certificate2Collection();
        try
        {
            roots.ImportFromPemFile(pemPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException)
        {
            throw new InvalidOperationException($"{OutboundOptions.Section}:CaCertificatesPath: cannot read {pemPath}: {e.Message}", e);
        }

        return roots.Count == 0
            ? throw new InvalidOperationException($"{OutboundOptions.Section}:CaCertificatesPath: {pemPath} holds no PEM certificate")
            : new CertificateTrust(roots);
    }

    /// <summary>
    /// The verdict on a certificate SslStream validated against the host name it connected with (<paramref name="errors"/>).
    /// A chain the system roots reject is built again with the extra roots as the only trust anchors.
    /// </summary>
    public CertificateVerdict Check(X509Certificate? certificate, X509Chain? presented, SslPolicyErrors errors)
    {
        if (certificate is null || (errors & SslPolicyErrors.RemoteCertificateNotAvailable) != 0)
        {
            return CertificateVerdict.ValidationFailure;
        }

        using var leaf = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        var now = DateTime.Now;
        if (leaf.NotAfter < now || leaf.NotBefore > now)
        {
            return CertificateVerdict.Expired;
        }

        if ((errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
        {
            return CertificateVerdict.HostMismatch;
        }

        if ((errors & SslPolicyErrors.RemoteCertificateChainErrors) == 0)
        {
            return CertificateVerdict.Valid;
        }

        if (_extraRoots.Count == 0)
        {
            return CertificateVerdict.ValidationFailure;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(_extraRoots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (presented is not null)
        {
            foreach (var element in presented.ChainElements)
            {
                chain.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }

        chain.ChainPolicy.ApplicationPolicy.Add(new Oid("1.3.6.1.5.5.7.3.1"));
        return chain.Build(leaf) ? CertificateVerdict.Valid : CertificateVerdict.ValidationFailure;
    }
}
