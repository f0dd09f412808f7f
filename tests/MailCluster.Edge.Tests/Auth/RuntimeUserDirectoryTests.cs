using MailCluster.Edge.Auth;
using MailCluster.Edge.Credentials;
using Xunit;

namespace MailCluster.Edge.Tests.Auth;

/// <summary>UserDirectory over configured users plus a CredentialSet of runtime users and keys.</summary>
public class RuntimeUserDirectoryTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;

    private static RuntimeUser User(string name, string password, params string[] senders) =>
        new(name, PasswordHasher.Hash(password, 1_000), senders, Now, Now);

    [Fact]
    public async Task A_runtime_user_logs_in_and_a_changed_password_invalidates_the_cache()
    {
        var set = new CredentialSet();
        var cache = new VerifiedCredentialCache();
        var directory = new UserDirectory([], set, cache);
        Assert.Equal(0, directory.Count);

        set.Replace([User("dora", "old-pw", "dora@example.com")], []);
        Assert.Equal(1, directory.Count);
        Assert.Equal("dora", (await directory.AuthenticateAsync("DORA", "old-pw"))?.Name);
        Assert.Equal(1, cache.Count);
        Assert.Equal("dora", (await directory.AuthenticateAsync("dora", "old-pw"))?.Name); // from the cache

        set.Replace([User("dora", "new-pw", "dora@example.org")], []);
        Assert.Null(await directory.AuthenticateAsync("dora", "old-pw"));
        var user = await directory.AuthenticateAsync("dora", "new-pw");
        Assert.Equal(["dora@example.org"], user?.AllowedSenders);

        set.Replace([], []);
        Assert.Null(await directory.AuthenticateAsync("dora", "new-pw")); // removed: the cached entry is never reached
    }

    [Fact]
    public async Task Changed_senders_apply_without_a_new_password()
    {
        var set = new CredentialSet();
        var directory = new UserDirectory([], set, new VerifiedCredentialCache());
        var dora = User("dora", "pw", "dora@example.com");
        set.Replace([dora], []);
        Assert.NotNull(await directory.AuthenticateAsync("dora", "pw"));
        set.Replace([dora with { AllowedSenders = ["example.net"] }], []);
        Assert.Equal(["example.net"], (await directory.AuthenticateAsync("dora", "pw"))?.AllowedSenders);
    }

    [Fact]
    public async Task Configuration_wins_on_a_name_clash()
    {
        var configured = new SmtpUserOptions { Name = "alice", PasswordHash = PasswordHasher.Hash("config-pw", 1_000) };
        configured.AllowedSenders.Add("alice@config.example");
        var set = new CredentialSet();
        set.Replace([User("ALICE", "runtime-pw", "alice@runtime.example")], []);
        var directory = new UserDirectory([configured], set);

        Assert.True(directory.IsConfigured("Alice"));
        Assert.Null(await directory.AuthenticateAsync("alice", "runtime-pw"));
        Assert.Equal(["alice@config.example"], (await directory.AuthenticateAsync("alice", "config-pw"))?.AllowedSenders);
    }

    [Fact]
    public async Task An_API_key_logs_in_with_its_id_and_secret_only_while_enabled_and_with_the_smtp_scope()
    {
        var secret = ApiKeySecrets.NewSecret();
        var key = new ApiKey(ApiKeySecrets.NewId(), "app", ApiKeySecrets.Hash(secret), ["example.com"], ApiKeyScopes.Smtp, 5, 100, true, Now);
        var set = new CredentialSet();
        set.Replace([], [key]);
        var directory = new UserDirectory([], set);

        var user = await directory.AuthenticateAsync(key.Id, secret);
        Assert.NotNull(user);
        Assert.Equal(key.Id, user.ApiKeyId);
        Assert.True(SenderAuthorization.IsAllowed(user, "anyone@example.com"));
        Assert.Null(await directory.AuthenticateAsync(key.Id, "mck_wrong"));
        Assert.Null(await directory.AuthenticateAsync(ApiKeySecrets.NewId(), secret));

        set.Replace([], [key with { Enabled = false }]);
        Assert.Null(await directory.AuthenticateAsync(key.Id, secret));
        set.Replace([], [key with { Scopes = ApiKeyScopes.Http }]);
        Assert.Null(await directory.AuthenticateAsync(key.Id, secret));
        Assert.Equal(0, directory.Count);
    }
}
