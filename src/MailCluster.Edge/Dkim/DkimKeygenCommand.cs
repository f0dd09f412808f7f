using System.Security.Cryptography;
using System.Text;
using MimeKit.Cryptography;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.OpenSsl;
using Org.BouncyCastle.Pkcs;
using Org.BouncyCastle.Security;

namespace MailCluster.Edge.Dkim;

/// <summary>
/// <c>dotnet MailCluster.Host.dll dkim keygen --domain D --selector S --algorithm rsa-sha256|ed25519-sha256
/// [--out key.pem]</c>: makes a key pair (RSA 2048 or Ed25519), writes the private key as PKCS#8 PEM to the file
/// (mode 0600) or prints it, and prints the DNS TXT record to publish, <c>S._domainkey.D. IN TXT "v=DKIM1; k=rsa; p=..."</c>,
/// split into strings of at most 255 octets (RFC 1035 §3.3.14; RFC 6376 §3.6.2.2 joins them without spaces).
/// </summary>
public static class DkimKeygenCommand
{
    public const string Name = "dkim";

    public const int Success = 0;

    public const int UsageError = 2;

    private const string Usage =
        "usage: dkim keygen --domain D --selector S --algorithm rsa-sha256|ed25519-sha256 [--out key.pem]\n" +
        "  Prints (or writes to --out) a new private key in PEM and prints the DNS TXT record to publish.\n";

    /// <param name="args">The arguments after the command name (<c>keygen ...</c>).</param>
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        if (args.Length == 0 || args[0] != "keygen" || Options(args[1..]) is not { } options
            || !options.TryGetValue("--domain", out var domain) || MailCluster.Queue.DomainKey.TryNormalize(domain) is null
            || !options.TryGetValue("--selector", out var selector) || !IsSelector(selector)
            || DkimAlgorithms.Parse(options.GetValueOrDefault("--algorithm", DkimAlgorithms.RsaSha256)) is not { } algorithm)
        {
            error.Write(Usage);
            return UsageError;
        }

        var (pem, record) = Generate(algorithm);
        if (options.TryGetValue("--out", out var path))
        {
            File.WriteAllText(path, pem);
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }

            output.WriteLine($"; private key written to {path}");
        }
        else
        {
            output.Write(pem);
        }

        output.WriteLine(TxtRecord(selector, MailCluster.Queue.DomainKey.Normalize(domain), record));
        return Success;
    }

    /// <summary>The PKCS#8 PEM of a new private key and the DKIM key record (RFC 6376 §3.6.1; RFC 8463 §4.2 for k=ed25519).</summary>
    public static (string Pem, string Record) Generate(DkimSignatureAlgorithm algorithm)
    {
        if (algorithm == DkimSignatureAlgorithm.Ed25519Sha256)
        {
            var generator = new Ed25519KeyPairGenerator();
            generator.Init(new Ed25519KeyGenerationParameters(new SecureRandom()));
            var pair = generator.GenerateKeyPair();
            using var writer = new StringWriter();
            var pemWriter = new PemWriter(writer);
            pemWriter.WriteObject(PrivateKeyInfoFactory.CreatePrivateKeyInfo(pair.Private));
            pemWriter.Writer.Flush();

            // The p= of an Ed25519 key is the raw 32-octet public key, not a SubjectPublicKeyInfo.
            var publicKey = ((Ed25519PublicKeyParameters)pair.Public).GetEncoded();
            return (writer.ToString().Replace("\r\n", "\n", StringComparison.Ordinal), $"v=DKIM1; k=ed25519; p={Convert.ToBase64String(publicKey)}");
        }

        using var rsa = RSA.Create(2048);
        var spki = rsa.ExportSubjectPublicKeyInfo();
        return (rsa.ExportPkcs8PrivateKeyPem() + "\n", $"v=DKIM1; k=rsa; p={Convert.ToBase64String(spki)}");
    }

    /// <summary>A zone-file line with the record split into quoted strings of at most 255 octets.</summary>
    public static string TxtRecord(string selector, string domain, string record)
    {
        ArgumentNullException.ThrowIfNull(record);
        var builder = new StringBuilder().Append(selector).Append("._domainkey.").Append(domain).Append(". IN TXT");
        for (var i = 0; i < record.Length; i += 255)
        {
            builder.Append(" \"").Append(record.AsSpan(i, Math.Min(255, record.Length - i))).Append('"');
        }

        return builder.ToString();
    }

    /// <summary>RFC 6376 §3.1: a selector is one or more dot-separated sub-domain labels.</summary>
    public static bool IsSelector(string? selector) =>
        !string.IsNullOrEmpty(selector) && selector.Length <= 63 * 4
        && selector.Split('.').All(label => label.Length is > 0 and <= 63
            && label.All(c => char.IsAsciiLetterOrDigit(c) || c == '-') && label[0] != '-' && label[^1] != '-');

    private static Dictionary<string, string>? Options(string[] args)
    {
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i += 2)
        {
            if (args[i] is not ("--domain" or "--selector" or "--algorithm" or "--out") || i + 1 >= args.Length || !options.TryAdd(args[i], args[i + 1]))
            {
                return null;
            }
        }

        return options;
    }
}
