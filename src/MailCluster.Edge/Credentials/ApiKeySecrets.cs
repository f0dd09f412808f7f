using System.Security.Cryptography;
using System.Text;

namespace MailCluster.Edge.Credentials;

/// <summary>
/// API key ids and secrets. A secret is 256 bits from the OS CSPRNG, written <c>mck_</c> + base64url; only its SHA-256
/// is stored and held in memory. As for the ops API tokens (Ops/Access/ApiTokens.cs): a uniformly random 256-bit
/// secret has no likely candidates to try, so a slow hash would add nothing but cost per request, and lookup by the
/// hash of the presented secret reveals nothing through timing.
/// </summary>
public static class ApiKeySecrets
{
    public const string SecretPrefix = "mck_";

    /// <summary>Every key id starts with this; runtime SMTP user names may not (a user could not shadow a key).</summary>
    public const string IdPrefix = "key_";

    private static readonly System.Buffers.SearchValues<char> LowerHex = System.Buffers.SearchValues.Create("0123456789abcdef");

    public static string NewSecret() => SecretPrefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static string NewId() => IdPrefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));

    /// <summary>True for a well-formed key id (<c>key_</c> and 16 lower-case hex digits).</summary>
    public static bool IsKeyId(string? id) =>
        id is { Length: 20 } && id.StartsWith(IdPrefix, StringComparison.Ordinal) && !id.AsSpan(IdPrefix.Length).ContainsAnyExcept(LowerHex);

    /// <summary>Lower-case hex SHA-256 of the secret's UTF-8 bytes: the stored form.</summary>
    public static string Hash(string secret)
    {
        ArgumentNullException.ThrowIfNull(secret);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));
    }
}
