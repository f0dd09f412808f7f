using MimeKit.Cryptography;

namespace MailCluster.Edge.Dkim;

/// <summary>The two signature algorithms a signer may use today: rsa-sha256 (RFC 6376, RFC 8301 forbids rsa-sha1)
/// and ed25519-sha256 (RFC 8463).</summary>
public static class DkimAlgorithms
{
    public const string RsaSha256 = "rsa-sha256";
    public const string Ed25519Sha256 = "ed25519-sha256";

    /// <summary>The a= name of <paramref name="algorithm"/>.</summary>
    public static string Name(DkimSignatureAlgorithm algorithm) =>
        algorithm == DkimSignatureAlgorithm.Ed25519Sha256 ? Ed25519Sha256 : RsaSha256;

    public static DkimSignatureAlgorithm? Parse(string? name) => name?.Trim().ToLowerInvariant() switch
    {
        RsaSha256 => DkimSignatureAlgorithm.RsaSha256,
        Ed25519Sha256 => DkimSignatureAlgorithm.Ed25519Sha256,
        _ => null,
    };
}
