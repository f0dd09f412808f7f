using MimeKit.Cryptography;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.OpenSsl;

namespace MailCluster.Edge.Dkim;

/// <summary>Reads a DKIM private key from a PEM file and checks that it fits its algorithm.</summary>
public static class DkimKeyFile
{
    /// <summary>RFC 8301 §3.2: signers MUST use RSA keys of at least 1024 bits (2048 recommended; keygen makes 2048).</summary>
    public const int MinimumRsaBits = 1024;

    /// <summary>The private key in <paramref name="path"/>.</summary>
    /// <exception cref="DkimKeyException">The file is missing or unreadable, holds no private key, or a key of
    /// another type or a too short RSA key; the message says which.</exception>
    public static AsymmetricKeyParameter Load(string path, DkimSignatureAlgorithm algorithm)
    {
        object? pem;
        try
        {
            using var reader = File.OpenText(path);
            pem = new PemReader(reader).ReadObject();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or InvalidCastException or InvalidOperationException or PemException)
        {
            throw new DkimKeyException($"cannot read a PEM private key from '{path}': {ex.Message}", ex);
        }

        var key = pem switch
        {
            AsymmetricCipherKeyPair pair => pair.Private,
            AsymmetricKeyParameter { IsPrivate: true } single => single,
            _ => throw new DkimKeyException($"'{path}' holds no PEM private key"),
        };

        switch (algorithm)
        {
            case DkimSignatureAlgorithm.Ed25519Sha256 when key is not Ed25519PrivateKeyParameters:
                throw new DkimKeyException($"'{path}' is not an Ed25519 private key (algorithm ed25519-sha256)");
            case DkimSignatureAlgorithm.RsaSha256 when key is not RsaKeyParameters:
                throw new DkimKeyException($"'{path}' is not an RSA private key (algorithm rsa-sha256)");
            case DkimSignatureAlgorithm.RsaSha256 when ((RsaKeyParameters)key).Modulus.BitLength < MinimumRsaBits:
                throw new DkimKeyException($"'{path}' is an RSA key of {((RsaKeyParameters)key).Modulus.BitLength} bits; at least {MinimumRsaBits} are required (RFC 8301)");
            default:
                return key;
        }
    }
}

/// <summary>A DKIM key file that cannot be used; the message names the file and the reason.</summary>
public sealed class DkimKeyException : Exception
{
    public DkimKeyException()
    {
    }

    public DkimKeyException(string message)
        : base(message)
    {
    }

    public DkimKeyException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
