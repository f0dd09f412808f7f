using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using MailCluster.Outbound.Dane;
using Xunit;

namespace MailCluster.Outbound.Tests.Dane;

/// <summary>RFC 7672's decision table and certificate checks, with a root → intermediate → server chain made here.</summary>
public sealed class DaneTests : IDisposable
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;
    private readonly X509Certificate2 _root;
    private readonly X509Certificate2 _intermediate;
    private readonly X509Certificate2 _server;
    private readonly X509Certificate2 _expiredServer;

    public DaneTests()
    {
        _root = Authority("CN=Test Root", null, Now.AddDays(-60), Now.AddYears(2));
        _intermediate = Authority("CN=Test Intermediate", _root, Now.AddDays(-50), Now.AddYears(1));
        _server = Leaf("mx.dane.test", _intermediate, Now.AddDays(-1), Now.AddDays(30));
        _expiredServer = Leaf("mx.dane.test", _intermediate, Now.AddDays(-30), Now.AddDays(-1));
    }

    public void Dispose()
    {
        foreach (var c in new[] { _root, _intermediate, _server, _expiredServer })
        {
            c.Dispose();
        }
    }

    [Theory]
    [InlineData(3, 1, 1, 32, true)]
    [InlineData(3, 0, 2, 64, true)]
    [InlineData(2, 0, 0, 100, true)]
    [InlineData(3, 1, 1, 31, false)] // a digest of the wrong length
    [InlineData(1, 1, 1, 32, false)] // PKIX-EE: unusable for SMTP (RFC 7672 §3.1.3)
    [InlineData(0, 0, 1, 32, false)] // PKIX-TA
    [InlineData(3, 2, 1, 32, false)] // unknown selector
    [InlineData(3, 1, 3, 32, false)] // unknown matching type
    public void Usability_follows_RFC_7672(byte usage, byte selector, byte matching, int length, bool usable) =>
        Assert.Equal(usable, new TlsaRecord(usage, selector, matching, new byte[length]).IsUsable);

    [Fact]
    public void Dane_ee_matches_the_key_or_the_certificate_and_ignores_names_and_dates()
    {
        var spki = new TlsaRecord(3, 1, 1, SHA256.HashData(_expiredServer.PublicKey.ExportSubjectPublicKeyInfo()));
        var full = new TlsaRecord(3, 0, 2, SHA512.HashData(_expiredServer.RawData));
        Assert.Null(DaneAuthentication.Check([_expiredServer], ["other.example"], [spki], Now));
        Assert.Null(DaneAuthentication.Check([_expiredServer], ["other.example"], [full], Now));
        Assert.Equal("no DANE-EE record matches the server certificate", DaneAuthentication.Check([_server], ["mx.dane.test"], [spki], Now));
    }

    [Fact]
    public void Dane_ta_requires_the_chain_and_the_name()
    {
        var ta = new TlsaRecord(2, 1, 1, SHA256.HashData(_intermediate.PublicKey.ExportSubjectPublicKeyInfo()));
        Assert.Null(DaneAuthentication.Check([_server, _intermediate], ["mx.dane.test"], [ta], Now));
        Assert.Equal("server certificate does not name other.example",
            DaneAuthentication.Check([_server, _intermediate], ["other.example"], [ta], Now));

        // The anchor must be sent unless the record carries it whole; an expired server certificate fails the chain.
        Assert.Equal("the server certificate does not chain to a DANE-TA trust anchor",
            DaneAuthentication.Check([_server], ["mx.dane.test"], [ta], Now));
        Assert.Null(DaneAuthentication.Check([_server], ["mx.dane.test"], [new TlsaRecord(2, 0, 0, _intermediate.RawData)], Now));
        Assert.Equal("the server certificate does not chain to a DANE-TA trust anchor",
            DaneAuthentication.Check([_expiredServer, _intermediate], ["mx.dane.test"], [ta], Now));

        // The root as anchor, the intermediate sent along.
        var rootTa = new TlsaRecord(2, 0, 1, SHA256.HashData(_root.RawData));
        Assert.Null(DaneAuthentication.Check([_server, _intermediate, _root], ["mx.dane.test"], [rootTa], Now));
    }

    [Fact]
    public void The_decision_table()
    {
        var usable = new TlsaRecord(3, 1, 1, new byte[32]);
        var unusable = new TlsaRecord(1, 1, 1, new byte[32]);
        Assert.Equal(DaneVerdictKind.Authenticate, Decide(DnsSecurity.Secure, DnsSecurity.Secure, new(DnsSecurity.Secure, [usable, unusable])).Kind);
        Assert.Equal([usable], Decide(DnsSecurity.Secure, DnsSecurity.Secure, new(DnsSecurity.Secure, [usable, unusable])).Usable);
        Assert.Equal(DaneVerdictKind.EncryptOnly, Decide(DnsSecurity.Secure, DnsSecurity.Secure, new(DnsSecurity.Secure, [unusable])).Kind);
        Assert.Equal(DaneVerdictKind.NotApplicable, Decide(DnsSecurity.Secure, DnsSecurity.Secure, new(DnsSecurity.Secure, [])).Kind);
        Assert.Equal(DaneVerdictKind.NotApplicable, Decide(DnsSecurity.Secure, DnsSecurity.Secure, new(DnsSecurity.Insecure, [usable])).Kind);
        Assert.Equal(DaneVerdictKind.Defer, Decide(DnsSecurity.Secure, DnsSecurity.Secure, TlsaLookup.Failed("SERVFAIL")).Kind);
        Assert.Equal("TLSA lookup failed: SERVFAIL", Decide(DnsSecurity.Secure, DnsSecurity.Secure, TlsaLookup.Failed("SERVFAIL")).Reason);

        // An insecure MX or address lookup gives no protection: the TLSA answer is not even considered.
        Assert.Equal(DaneVerdictKind.NotApplicable, Decide(DnsSecurity.Insecure, DnsSecurity.Secure, TlsaLookup.Failed("SERVFAIL")).Kind);
        Assert.Equal(DaneVerdictKind.NotApplicable, Decide(DnsSecurity.Secure, DnsSecurity.Insecure, new(DnsSecurity.Secure, [usable])).Kind);
    }

    private static DaneVerdict Decide(DnsSecurity mx, DnsSecurity address, TlsaLookup tlsa) => DaneVerdict.Decide(mx, address, tlsa);

    private static X509Certificate2 Authority(string subject, X509Certificate2? issuer, DateTimeOffset from, DateTimeOffset to)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        if (issuer is null)
        {
            return request.CreateSelfSigned(from, to);
        }

        using var signed = request.Create(issuer, from, to, RandomNumberGenerator.GetBytes(8));
        return signed.CopyWithPrivateKey(key);
    }

    private static X509Certificate2 Leaf(string name, X509Certificate2 issuer, DateTimeOffset from, DateTimeOffset to)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=" + name, key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(name);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        return request.Create(issuer, from, to, RandomNumberGenerator.GetBytes(8));
    }
}
