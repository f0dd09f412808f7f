using MailCluster.Edge.Auth;
using Xunit;

namespace MailCluster.Edge.Tests.Auth;

public class PasswordHasherTests
{
    // Production uses PasswordHasher.DefaultIterations; tests use few so they stay fast.
    private const int Fast = 1_000;

    [Theory]
    [InlineData("correct horse battery staple")]
    [InlineData("pässwörd-日本語-🔑")]
    [InlineData(" leading and trailing spaces ")]
    public void Round_trips(string password)
    {
        var encoded = PasswordHasher.Hash(password, Fast);
        Assert.True(PasswordHasher.IsWellFormed(encoded));
        Assert.True(PasswordHasher.Verify(password, encoded));
    }

    [Fact]
    public void Rejects_wrong_password()
    {
        var encoded = PasswordHasher.Hash("secret", Fast);
        Assert.False(PasswordHasher.Verify("Secret", encoded));
        Assert.False(PasswordHasher.Verify("secret ", encoded));
        Assert.False(PasswordHasher.Verify(string.Empty, encoded));
    }

    [Fact]
    public void Format_is_scheme_iterations_salt_hash()
    {
        var parts = PasswordHasher.Hash("secret", Fast).Split('$');
        Assert.Equal(4, parts.Length);
        Assert.Equal("pbkdf2-sha256", parts[0]);
        Assert.Equal("1000", parts[1]);
        Assert.Equal(PasswordHasher.SaltSize, Convert.FromBase64String(parts[2]).Length);
        Assert.Equal(PasswordHasher.HashSize, Convert.FromBase64String(parts[3]).Length);
    }

    [Fact]
    public void Same_password_gets_different_salts_and_hashes()
    {
        var a = PasswordHasher.Hash("secret", Fast).Split('$');
        var b = PasswordHasher.Hash("secret", Fast).Split('$');
        Assert.NotEqual(a[2], b[2]);
        Assert.NotEqual(a[3], b[3]);
    }

    [Fact]
    public void Default_is_owasp_600000_iterations()
    {
        Assert.Equal(600_000, PasswordHasher.DefaultIterations);
        Assert.StartsWith("pbkdf2-sha256$600000$", PasswordHasher.Hash("secret"), StringComparison.Ordinal);
    }

    [Fact]
    public void Matches_an_independent_pbkdf2_computation()
    {
        // PBKDF2 over the UTF-8 octets through the raw API, assembled by hand: the format is a storage contract.
        var salt = new byte[16];
        var hash = System.Security.Cryptography.Rfc2898DeriveBytes.Pbkdf2(
            System.Text.Encoding.UTF8.GetBytes("pässwörd"), salt, 1, System.Security.Cryptography.HashAlgorithmName.SHA256, 32);
        var encoded = $"pbkdf2-sha256$1${Convert.ToBase64String(salt)}${Convert.ToBase64String(hash)}";
        Assert.True(PasswordHasher.Verify("pässwörd", encoded));
    }

    public static TheoryData<string> Malformed()
    {
        var good = PasswordHasher.Hash("secret", Fast).Split('$');
        var salt = good[2];
        var hash = good[3];
        return new TheoryData<string>
        {
            string.Empty,
            "secret",
            "$2b$12$abcdefghijklmnopqrstuv",                                // bcrypt
            $"pbkdf2-sha1$1000${salt}${hash}",                           // other scheme
            $"PBKDF2-SHA256$1000${salt}${hash}",                         // scheme is case-sensitive
            $"pbkdf2-sha256$1000${salt}",                                 // missing part
            $"pbkdf2-sha256$1000${salt}${hash}$extra",                   // extra part
            $"pbkdf2-sha256$0${salt}${hash}",                            // zero iterations
            $"pbkdf2-sha256$-5${salt}${hash}",                           // negative
            $"pbkdf2-sha256$ 1000${salt}${hash}",                        // white space
            $"pbkdf2-sha256$99999999999${salt}${hash}",                  // overflows int
            $"pbkdf2-sha256$10000001${salt}${hash}",                     // above MaxIterations
            $"pbkdf2-sha256$abc${salt}${hash}",
            $"pbkdf2-sha256$1000$not base64!${hash}",
            $"pbkdf2-sha256$1000${salt}${hash[..^4]}",                   // hash too short
            $"pbkdf2-sha256$1000$AAAAAAAAAAA=${hash}",                   // 8-byte salt
            $"pbkdf2-sha256$1000$$",
        };
    }

    [Theory]
    [MemberData(nameof(Malformed))]
    public void Malformed_encoding_is_false_never_an_exception(string encoded)
    {
        Assert.False(PasswordHasher.IsWellFormed(encoded));
        Assert.False(PasswordHasher.Verify("secret", encoded));
    }

    [Fact]
    public void Missing_encoding_is_false()
    {
        Assert.False(PasswordHasher.IsWellFormed(null));
        Assert.False(PasswordHasher.Verify("secret", null));
    }

    [Fact]
    public void Hash_refuses_bad_arguments()
    {
        Assert.Throws<ArgumentException>(() => PasswordHasher.Hash(string.Empty, Fast));
        Assert.Throws<ArgumentOutOfRangeException>(() => PasswordHasher.Hash("secret", 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => PasswordHasher.Hash("secret", PasswordHasher.MaxIterations + 1));
    }
}
