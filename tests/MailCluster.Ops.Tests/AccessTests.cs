using System.Net;
using MailCluster.Ops.Access;
using Xunit;

namespace MailCluster.Ops.Tests;

public sealed class AccessTests
{
    [Fact]
    public void Secrets_are_256_random_bits_and_only_their_hash_identifies_them()
    {
        var secret = ApiTokens.NewSecret();
        Assert.StartsWith(ApiTokens.Prefix, secret, StringComparison.Ordinal);
        Assert.Equal(ApiTokens.Prefix.Length + 43, secret.Length); // 32 bytes in unpadded base64url
        Assert.NotEqual(secret, ApiTokens.NewSecret());
        Assert.Equal(64, ApiTokens.Hash(secret).Length);
        Assert.Equal(ApiTokens.Hash(secret), ApiTokens.Hash(secret));
        Assert.Equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", ApiTokens.Hash("abc")); // SHA-256 test vector (FIPS 180-2)
    }

    [Fact]
    public void Roles_include_the_ones_before_and_parse_only_as_written()
    {
        Assert.True(ApiRole.Admin > ApiRole.Operate && ApiRole.Operate > ApiRole.Read);
        Assert.Equal(ApiRole.Operate, ApiRoles.Parse("operate"));
        Assert.Null(ApiRoles.Parse("Admin"));
        Assert.Null(ApiRoles.Parse("root"));
        Assert.Null(ApiRoles.Parse(null));
        Assert.All(Enum.GetValues<ApiRole>(), r => Assert.Equal(r, ApiRoles.Parse(r.Name())));
    }

    [Fact]
    public void The_token_set_follows_the_database_and_the_file()
    {
        var set = new TokenSet();
        var secret = ApiTokens.NewSecret();
        Assert.Null(set.Find(secret));
        set.ReplaceStored([new StoredToken("0a", "ci", ApiRole.Read, ApiTokens.Hash(secret), DateTimeOffset.UnixEpoch)]);
        Assert.Equal(new TokenIdentity("0a", "ci", ApiRole.Read), set.Find(secret));
        set.ReplaceStored([]); // revoked elsewhere: gone at the next refresh
        Assert.Null(set.Find(secret));

        var file = ApiTokens.NewSecret();
        set.ReplaceFileToken(ApiTokens.Hash(file));
        Assert.Equal(ApiRole.Admin, set.Find(file)!.Role);
        Assert.Equal(TokenSet.FileTokenId, Assert.Single(set.List()).Id);
        set.ReplaceFileToken(null);
        Assert.Null(set.Find(file));
    }

    [Fact]
    public void Bad_tokens_are_refused_for_the_rest_of_the_window_after_the_limit()
    {
        var clock = new ManualClock();
        var throttle = new BadTokenThrottle(clock);
        var guesser = IPAddress.Parse("192.0.2.7");
        for (int i = 1; i < BadTokenThrottle.Limit; i++)
        {
            throttle.Failed(guesser);
            Assert.Null(throttle.RetryAfter(guesser));
        }

        throttle.Failed(guesser);
        Assert.Equal(BadTokenThrottle.Window, throttle.RetryAfter(guesser));
        Assert.Null(throttle.RetryAfter(IPAddress.Parse("192.0.2.8")));
        clock.Advance(TimeSpan.FromSeconds(45));
        Assert.Equal(TimeSpan.FromSeconds(15), throttle.RetryAfter(guesser));
        clock.Advance(TimeSpan.FromSeconds(15));
        Assert.Null(throttle.RetryAfter(guesser));
    }

    [Fact]
    public void The_throttle_tracks_a_bounded_number_of_addresses()
    {
        var clock = new ManualClock();
        var throttle = new BadTokenThrottle(clock);
        for (int i = 0; i < BadTokenThrottle.MaxAddresses + 500; i++)
        {
            throttle.Failed(new IPAddress(BitConverter.GetBytes(0x0A000000 + i)));
            clock.Advance(TimeSpan.FromMilliseconds(1));
        }

        Assert.Equal(BadTokenThrottle.MaxAddresses, throttle.Tracked);
    }

    [Fact]
    public async Task The_sqlite_store_creates_lists_and_revokes()
    {
        var dir = Directory.CreateTempSubdirectory("mc-tokens-");
        try
        {
            await using (var store = TokenStoreFactory.Create(postgres: false, "", dir.FullName))
            {
                await store.InitializeAsync(CancellationToken.None);
                await store.InitializeAsync(CancellationToken.None); // idempotent
                var token = new StoredToken("00ff", "ops", ApiRole.Operate, ApiTokens.Hash("s"), DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000));
                await store.CreateAsync(token, CancellationToken.None);
                Assert.Equal(token, Assert.Single(await store.ListAsync(CancellationToken.None)));
                Assert.True(await store.RevokeAsync("00ff", CancellationToken.None));
                Assert.False(await store.RevokeAsync("00ff", CancellationToken.None));
                Assert.Empty(await store.ListAsync(CancellationToken.None));
            }

            Assert.True(File.Exists(Path.Combine(dir.FullName, TokenStoreFactory.SqliteFileName)));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")] // file modes are POSIX
    public void The_generated_admin_token_file_is_private_and_never_overwritten()
    {
        var dir = Directory.CreateTempSubdirectory("mc-admin-");
        try
        {
            var path = Path.Combine(dir.FullName, AdminTokenFile.DefaultFileName);
            Assert.True(AdminTokenFile.CreateIfMissing(path));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
            var (token, problem) = AdminTokenFile.Read(path);
            Assert.Null(problem);
            Assert.StartsWith(ApiTokens.Prefix, token, StringComparison.Ordinal);
            Assert.False(AdminTokenFile.CreateIfMissing(path));
            Assert.Equal(token, AdminTokenFile.Read(path).Token);

            File.WriteAllText(path, "short");
            Assert.Contains("at least", AdminTokenFile.Read(path).Problem, StringComparison.Ordinal);
            Assert.Contains("cannot read", AdminTokenFile.Read(Path.Combine(dir.FullName, "missing")).Problem, StringComparison.Ordinal);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    private sealed class ManualClock : TimeProvider
    {
        private DateTimeOffset now = new(2026, 12, 6, 0, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => now;

        public void Advance(TimeSpan by) => now += by;
    }
}
