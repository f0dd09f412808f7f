using System.Security.Cryptography;
using System.Text;

namespace MailCluster.Ops.Access;

/// <summary>
/// Token secrets and their stored form. A secret is 256 bits from the OS CSPRNG, written <c>mct_</c> + base64url (the
/// prefix lets secret scanners and people recognise it). Only its SHA-256 is stored or kept in memory.
/// <para>Why no slow hash (PBKDF2, Argon2): a slow hash protects secrets with little entropy, such as passwords, whose
/// hashes could be brute-forced by trying likely candidates. A uniformly random 256-bit secret has no likely
/// candidates: inverting SHA-256 or finding a preimage for one of N stored hashes costs about 2^256 / N work, out of
/// reach whatever the hash speed. A fast hash also lets every request be checked in microseconds, so checking is not a
/// denial-of-service lever. Lookup is by the hash of the presented token, so the comparison time reveals nothing about
/// a stored secret.</para>
/// </summary>
public static class ApiTokens
{
    public const string Prefix = "mct_";

    /// <summary>A new secret: <c>mct_</c> and 43 base64url characters (32 random bytes).</summary>
    public static string NewSecret() => Prefix + Base64Url(RandomNumberGenerator.GetBytes(32));

    /// <summary>A new token id: 16 hex digits, not secret (it names the token in listings, revocation and the audit log).</summary>
    public static string NewId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));

    /// <summary>The stored form of a presented token: lower-case hex SHA-256 of its UTF-8 bytes.</summary>
    public static string Hash(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));
    }

    private static string Base64Url(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}

/// <summary>A token as the database holds it: never the secret, only <see cref="SecretHash"/>.</summary>
public sealed record StoredToken(string Id, string Name, ApiRole Role, string SecretHash, DateTimeOffset CreatedAt);

/// <summary>Who is calling: the token a request presented, as the access check and the audit log name it.</summary>
public sealed record TokenIdentity(string Id, string Name, ApiRole Role);
