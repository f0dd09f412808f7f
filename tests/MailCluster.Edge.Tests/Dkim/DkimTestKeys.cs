using MailCluster.Edge.Dkim;
using Microsoft.Extensions.Logging.Abstractions;
using MimeKit;
using MimeKit.Cryptography;
using Org.BouncyCastle.Crypto;

namespace MailCluster.Edge.Tests.Dkim;

/// <summary>Keys made by <see cref="DkimKeygenCommand.Generate"/>, written to temp files, and a MimeKit verifier that
/// finds their published records (the p= the command prints) by selector and domain.</summary>
internal sealed class DkimTestKeys : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("mc-dkim-").FullName;
    private readonly Dictionary<string, string> _records = new(StringComparer.OrdinalIgnoreCase);

    public DkimKeySource Add(string domain, string selector, DkimSignatureAlgorithm algorithm)
    {
        var path = Write(selector + "." + domain + ".pem", algorithm, out var record);
        _records[selector + "._domainkey." + domain] = record;
        return new DkimKeySource(domain, selector, path, algorithm, NullLogger.Instance);
    }

    public string Write(string name, DkimSignatureAlgorithm algorithm, out string record)
    {
        var (pem, published) = DkimKeygenCommand.Generate(algorithm);
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, pem);
        record = published;
        return path;
    }

    /// <summary>MimeKit's verdict for the DKIM-Signature field at <paramref name="index"/> of <paramref name="message"/>.</summary>
    public bool Verify(byte[] message, int index = 0)
    {
        using var stream = new MemoryStream(message);
        var parsed = MimeMessage.Load(stream);
        var field = parsed.Headers.Where(h => h.Id == HeaderId.DkimSignature).ElementAt(index);
        var verifier = new DkimVerifier(new Locator(_records));
        verifier.Enable(DkimSignatureAlgorithm.Ed25519Sha256);
        return verifier.Verify(parsed, field);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private sealed class Locator(Dictionary<string, string> records) : DkimPublicKeyLocatorBase
    {
        public override AsymmetricKeyParameter LocatePublicKey(string methods, string domain, string selector, CancellationToken cancellationToken = default) =>
            GetPublicKey(records[selector + "._domainkey." + domain]);

        public override Task<AsymmetricKeyParameter> LocatePublicKeyAsync(string methods, string domain, string selector, CancellationToken cancellationToken = default) =>
            Task.FromResult(LocatePublicKey(methods, domain, selector, cancellationToken));
    }
}
