using System.Globalization;
using System.Security.Cryptography;

namespace MailCluster.Edge.Auth;

/// <summary>
/// Salted, deliberately slow password hashes for SMTP AUTH users: PBKDF2 (RFC 8018 §5.2) with HMAC-SHA-256,
/// a 16-byte random salt and a 32-byte derived key, stored as
/// <c>pbkdf2-sha256$&lt;iterations&gt;$&lt;salt base64&gt;$&lt;hash base64&gt;</c>.
/// <para>The password is hashed as its UTF-8 octets, exactly as given: no trimming and no SASLprep
/// (RFC 4013) normalisation, so a password must be typed the way it was hashed.</para>
/// </summary>
public static class PasswordHasher
{
    public const string Scheme = "pbkdf2-sha256";

    /// <summary>OWASP Password Storage Cheat Sheet recommendation for PBKDF2-HMAC-SHA256.</summary>
    public const int DefaultIterations = 600_000;

    /// <summary>Upper bound accepted in a stored hash, so a typo in configuration cannot stall every login.</summary>
    public const int MaxIterations = 10_000_000;

    public const int SaltSize = 16;

    public const int HashSize = 32;

    private static readonly HashAlgorithmName Algorithm = HashAlgorithmName.SHA256;

    /// <summary>Hashes <paramref name="password"/> with a fresh random salt. Low iteration counts are for tests only.</summary>
    public static string Hash(string password, int iterations = DefaultIterations)
    {
        ArgumentException.ThrowIfNullOrEmpty(password);
        ArgumentOutOfRangeException.ThrowIfLessThan(iterations, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(iterations, MaxIterations);

        var salt = RandomNumberGenerator.GetBytes(SaltSize);
        var hash = Rfc2898DeriveBytes.Pbkdf2(password, salt, iterations, Algorithm, HashSize);
        return Format(iterations, salt, hash);
    }

    /// <summary>
    /// True when <paramref name="password"/> matches <paramref name="encoded"/>. A malformed or missing encoding
    /// is false, never an exception. The comparison takes the same time wherever the hashes differ.
    /// </summary>
    public static bool Verify(string password, string? encoded)
    {
        ArgumentNullException.ThrowIfNull(password);
        if (!TryParse(encoded, out var iterations, out var salt, out var expected))
        {
            return false;
        }

        var actual = Rfc2898DeriveBytes.Pbkdf2(password, salt, iterations, Algorithm, HashSize);
        return CryptographicOperations.FixedTimeEquals(actual, expected);
    }

    /// <summary>For configuration validation: the scheme is ours, the iteration count is 1..<see cref="MaxIterations"/>,
    /// the salt holds at least <see cref="SaltSize"/> octets (NIST SP 800-132 §5.1: 128 bits) and the hash exactly <see cref="HashSize"/>.</summary>
    public static bool IsWellFormed(string? encoded) => TryParse(encoded, out _, out _, out _);

    internal static string Format(int iterations, byte[] salt, byte[] hash) =>
        string.Create(CultureInfo.InvariantCulture, $"{Scheme}${iterations}${Convert.ToBase64String(salt)}${Convert.ToBase64String(hash)}");

    internal static bool TryParse(string? encoded, out int iterations, out byte[] salt, out byte[] hash)
    {
        iterations = 0;
        salt = [];
        hash = [];
        var parts = encoded?.Split('$');
        return parts is [Scheme, var count, var saltText, var hashText]
            && int.TryParse(count, NumberStyles.None, CultureInfo.InvariantCulture, out iterations)
            && iterations is >= 1 and <= MaxIterations
            && StrictBase64.TryDecode(saltText, out salt) && salt.Length >= SaltSize
            && StrictBase64.TryDecode(hashText, out hash) && hash.Length == HashSize;
    }
}
