using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace MailCluster.Testing;

/// <summary>
/// A throw-away certificate authority for https on loopback: its root is written to <see cref="RootPemPath"/>, which a
/// node process trusts when started with <c>SSL_CERT_FILE</c> set to it (OpenSSL's trust-store override, which .NET on
/// Linux honours), and it issues server certificates for 127.0.0.1.
/// </summary>
public sealed class TestCertificateAuthority : IDisposable
{
    private readonly X509Certificate2 _root;

    public TestCertificateAuthority(string directory)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=MailCluster Test Root", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: true, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        _root = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(7));
        RootPemPath = Path.Combine(directory, "test-root-ca.pem");
        File.WriteAllText(RootPemPath, _root.ExportCertificatePem());
    }

    public string RootPemPath { get; }

    /// <summary>A server certificate (with its private key) for 127.0.0.1, signed by the root.</summary>
    public X509Certificate2 IssueLoopbackServerCertificate() =>
        Issue("127.0.0.1", names => names.AddIpAddress(IPAddress.Loopback), DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddDays(2));

    /// <summary>A server certificate for <paramref name="dnsName"/> (subjectAltName dNSName), signed by the root;
    /// <paramref name="expired"/> makes one whose validity ended an hour ago (an MTA-STS "certificate-expired" case).</summary>
    public X509Certificate2 IssueServerCertificate(string dnsName, bool expired = false)
    {
        var now = DateTimeOffset.UtcNow;
        return Issue(dnsName, names => names.AddDnsName(dnsName), expired ? now.AddHours(-20) : now.AddHours(-1), expired ? now.AddHours(-1) : now.AddDays(2));
    }

    private X509Certificate2 Issue(string commonName, Action<SubjectAlternativeNameBuilder> addNames, DateTimeOffset notBefore, DateTimeOffset notAfter)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest($"CN={commonName}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        addNames(names);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(_root, true, false));
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F;
        using var issued = request.Create(_root, notBefore, notAfter, serial);
        using var withKey = issued.CopyWithPrivateKey(key);

        // A PKCS#12 round trip gives a certificate whose key SslStream can use on every platform.
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), password: null);
    }

    public void Dispose() => _root.Dispose();
}
